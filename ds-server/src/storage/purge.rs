//! Forgetting what nobody needs any more: log entries every member has
//! acknowledged (or that outlived the retention period), acknowledged inbox
//! entries, finished memberships, expired key packages and tokens.

use std::time::Duration;

use super::numbers::from_db;
use super::{StorageError, Store, Timestamp};

/// What one [`Store::purge`] removed, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Group log entries.
    pub log_entries: u64,
    /// Inbox entries.
    pub inbox_entries: u64,
    /// Membership intervals whose client has acknowledged their last entry.
    pub memberships: u64,
    /// Key packages past their `not_after`.
    pub key_packages: u64,
    /// Registration tokens past their expiry.
    pub tokens: u64,
}

impl Store {
    /// Deletes group log entries that every membership interval covering them
    /// has acknowledged, and all entries older than `retention`; inbox entries
    /// that were acknowledged or are older than `retention`; membership
    /// intervals (and then cursors) that are fully acknowledged; and expired
    /// key packages and registration tokens. One transaction.
    pub async fn purge(
        &self,
        now: Timestamp,
        retention: Duration,
    ) -> Result<PurgeReport, StorageError> {
        let cutoff = now.saturating_sub(retention).to_db()?;
        let now = now.to_db()?;
        let mut report = PurgeReport::default();
        let mut tx = self.begin_write().await?;

        report.log_entries += sqlx::query("DELETE FROM group_log WHERE created_at < $1")
            .bind(cutoff)
            .execute(tx.conn())
            .await?
            .rows_affected();
        // Per group, the highest number every unfinished membership has passed.
        // A membership is unfinished while its client has not acknowledged its
        // last entry; it has "passed" max(cursor, from_seq - 1).
        let horizons: Vec<(String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT g.group_id, g.next_seq,
                    (SELECT MIN(CASE WHEN COALESCE(c.acked_seq, 0) > m.from_seq - 1
                                     THEN COALESCE(c.acked_seq, 0) ELSE m.from_seq - 1 END)
                     FROM memberships m
                     LEFT JOIN group_cursors c ON c.client_id = m.client_id AND c.group_id = m.group_id
                     WHERE m.group_id = g.group_id
                       AND (m.until_seq IS NULL OR COALESCE(c.acked_seq, 0) < m.until_seq)),
                    (SELECT MIN(l.seq) FROM group_log l WHERE l.group_id = g.group_id)
             FROM groups g WHERE g.status <> 'reserved'",
        )
        .fetch_all(tx.conn())
        .await?;
        for (group_id, next_seq, horizon, oldest) in horizons {
            let horizon = horizon.unwrap_or(next_seq - 1);
            if oldest.is_some_and(|oldest| oldest <= horizon) {
                report.log_entries +=
                    sqlx::query("DELETE FROM group_log WHERE group_id = $1 AND seq <= $2")
                        .bind(&group_id)
                        .bind(horizon)
                        .execute(tx.conn())
                        .await?
                        .rows_affected();
            }
        }

        report.memberships = sqlx::query(
            "DELETE FROM memberships
             WHERE until_seq IS NOT NULL
               AND until_seq <= COALESCE((SELECT c.acked_seq FROM group_cursors c
                                          WHERE c.client_id = memberships.client_id
                                            AND c.group_id = memberships.group_id), 0)",
        )
        .execute(tx.conn())
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM group_cursors
             WHERE NOT EXISTS (SELECT 1 FROM memberships m
                               WHERE m.client_id = group_cursors.client_id
                                 AND m.group_id = group_cursors.group_id)",
        )
        .execute(tx.conn())
        .await?;

        report.inbox_entries = sqlx::query(
            "DELETE FROM inbox_entries
             WHERE created_at < $1
                OR seq <= COALESCE((SELECT i.acked_seq FROM inboxes i
                                    WHERE i.client_id = inbox_entries.client_id), 0)",
        )
        .bind(cutoff)
        .execute(tx.conn())
        .await?
        .rows_affected();
        super::replica::purge_welcome_marks(tx.conn(), cutoff).await?;
        super::dead_letters::purge(tx.conn(), cutoff).await?;
        report.key_packages = sqlx::query("DELETE FROM key_packages WHERE not_after <= $1")
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();
        report.tokens = sqlx::query("DELETE FROM registration_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();

        tx.commit().await?;
        Ok(report)
    }

    /// How many log entries a group currently keeps (a metric, and how tests
    /// check that a message is stored once).
    pub async fn log_len(&self, group_id: &str) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM group_log WHERE group_id = $1")
            .bind(group_id)
            .fetch_one(&self.pool)
            .await?;
        from_db(count, "log length")
    }
}
