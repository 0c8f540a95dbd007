//! Per-client read positions: how far a client has acknowledged each group's
//! log and its inbox. Acknowledging only ever moves a position forward.

use std::collections::BTreeMap;

use super::numbers::to_db;
use super::{StorageError, Store};

/// Read positions of one client: for each group the last sequence number it
/// has, and the last inbox number it has (0 = nothing yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursors {
    /// Group id → last log sequence number the client has.
    pub groups: BTreeMap<String, u64>,
    /// Last inbox sequence number the client has.
    pub inbox: u64,
}

impl Store {
    /// Records that the client has everything up to these positions, so the
    /// entries can be purged and are not offered again. A position never moves
    /// back, is clamped to what exists, and is ignored for groups the client
    /// never belonged to.
    pub async fn ack(&self, client_id: &str, cursors: &Cursors) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        // BTreeMap order: every transaction locks cursor rows in the same order.
        for (group_id, &seq) in &cursors.groups {
            sqlx::query(
                "INSERT INTO group_cursors (client_id, group_id, acked_seq)
                 SELECT $1, g.group_id, CASE WHEN g.next_seq - 1 < $2 THEN g.next_seq - 1 ELSE $2 END
                 FROM groups g
                 WHERE g.group_id = $3
                   AND EXISTS (SELECT 1 FROM memberships m
                               WHERE m.group_id = g.group_id AND m.client_id = $1)
                 ON CONFLICT (client_id, group_id) DO UPDATE SET acked_seq = excluded.acked_seq
                 WHERE excluded.acked_seq > group_cursors.acked_seq",
            )
            .bind(client_id)
            .bind(to_db(seq, "acknowledged sequence number")?)
            .bind(group_id)
            .execute(tx.conn())
            .await?;
        }
        if cursors.inbox > 0 {
            sqlx::query(
                "UPDATE inboxes
                 SET acked_seq = CASE WHEN next_seq - 1 < $1 THEN next_seq - 1 ELSE $1 END
                 WHERE client_id = $2 AND acked_seq < $1 AND acked_seq < next_seq - 1",
            )
            .bind(to_db(cursors.inbox, "acknowledged inbox number")?)
            .bind(client_id)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await
    }

    /// The client's acknowledged positions as stored (groups it never acked are absent).
    pub async fn acked_cursors(&self, client_id: &str) -> Result<Cursors, StorageError> {
        let groups: Vec<(String, i64)> =
            sqlx::query_as("SELECT group_id, acked_seq FROM group_cursors WHERE client_id = $1")
                .bind(client_id)
                .fetch_all(&self.pool)
                .await?;
        let inbox: Option<i64> =
            sqlx::query_scalar("SELECT acked_seq FROM inboxes WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        let mut cursors = Cursors {
            groups: BTreeMap::new(),
            inbox: super::numbers::from_db(inbox.unwrap_or(0), "inbox cursor")?,
        };
        for (group_id, seq) in groups {
            cursors
                .groups
                .insert(group_id, super::numbers::from_db(seq, "group cursor")?);
        }
        Ok(cursors)
    }
}
