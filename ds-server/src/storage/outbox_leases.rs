//! Which DS process delivers a destination's outbox. Replicas sharing one
//! PostgreSQL database each run a sender; only the holder of a destination's
//! unexpired lease sends to it, so two processes never deliver the same rows
//! concurrently (which would be harmless for the guest, which deduplicates,
//! but doubles the traffic and muddles the order of retries).

use std::time::Duration;

use super::{StorageError, Store, Timestamp};

impl Store {
    /// Takes or renews the lease on `destination` for `holder` until
    /// `now + ttl`: succeeds if nobody holds it, `holder` already does, or the
    /// other holder's lease has expired. One conditional upsert, so two
    /// processes racing for a free lease cannot both win.
    pub async fn outbox_lease_acquire(
        &self,
        destination: &str,
        holder: &str,
        now: Timestamp,
        ttl: Duration,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "INSERT INTO outbox_leases (destination, holder, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (destination) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE outbox_leases.holder = excluded.holder
                    OR outbox_leases.expires_at < $4",
        )
        .bind(destination)
        .bind(holder)
        .bind(now.saturating_add(ttl).to_db()?)
        .bind(now.to_db()?)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(taken == 1)
    }

    /// Gives up `holder`'s lease on `destination` (nothing if another holds it),
    /// so another process may deliver right away.
    pub async fn outbox_lease_release(
        &self,
        destination: &str,
        holder: &str,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM outbox_leases WHERE destination = $1 AND holder = $2")
            .bind(destination)
            .bind(holder)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
