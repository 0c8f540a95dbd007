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
        let fresh = insert_nonce(&mut tx, client_id, nonce, now.to_db()?).await?;
        tx.commit().await?;
        Ok(fresh)
    }

    /// Admits one signed request of a registered client: records its nonce
    /// and, if the nonce is new, notes the client active at `now` — both in
    /// one transaction, since every authenticated request does both.
    /// `false` (and nothing written) if the nonce was used before.
    pub async fn record_request(
        &self,
        client_id: &str,
        nonce: &[u8],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        if !insert_nonce(&mut tx, client_id, nonce, now).await? {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE clients SET last_seen = CASE WHEN last_seen < $1 THEN $1 ELSE last_seen END
             WHERE client_id = $2",
        )
        .bind(now)
        .bind(client_id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(true)
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

/// Inserts a nonce; `false` if the client already used it.
async fn insert_nonce(
    tx: &mut super::store::WriteTx,
    client_id: &str,
    nonce: &[u8],
    now: i64,
) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO request_nonces (client_id, nonce, seen_at) VALUES ($1, $2, $3)
         ON CONFLICT (client_id, nonce) DO NOTHING",
    )
    .bind(client_id)
    .bind(nonce)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(inserted > 0)
}
