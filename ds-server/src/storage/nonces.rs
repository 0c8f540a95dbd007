//! Replay protection for signed queue and key-package requests: a nonce is
//! accepted once per client within the freshness window.

use super::{StorageError, Store, Timestamp};

impl Store {
    /// Records a request nonce; `false` if this client already used it (a
    /// replay). Concurrent duplicates: exactly one gets `true`.
    pub async fn record_nonce(
        &self,
        client_id: &str,
        nonce: &[u8],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO request_nonces (client_id, nonce, seen_at) VALUES ($1, $2, $3)
             ON CONFLICT (client_id, nonce) DO NOTHING",
        )
        .bind(client_id)
        .bind(nonce)
        .bind(now.to_db()?)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted > 0)
    }

    /// Forgets nonces seen before `older_than`. Call it with the start of the
    /// freshness window: older requests are rejected by their timestamp anyway.
    pub async fn purge_nonces(&self, older_than: Timestamp) -> Result<u64, StorageError> {
        let mut tx = self.begin_write().await?;
        let deleted = sqlx::query("DELETE FROM request_nonces WHERE seen_at < $1")
            .bind(older_than.to_db()?)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}
