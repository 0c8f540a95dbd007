//! One-time registration tokens. Only a hash of each token is stored, so a
//! leaked database does not let anyone register.

use super::store::WriteTx;
use super::{StorageError, Store, Timestamp};

impl Store {
    /// Stores a registration token (by its hash) valid until `expires_at`.
    /// Returns `false` if that hash is already stored.
    pub async fn create_token(
        &self,
        token_hash: &[u8],
        expires_at: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO registration_tokens (token_hash, expires_at) VALUES ($1, $2)
             ON CONFLICT (token_hash) DO NOTHING",
        )
        .bind(token_hash)
        .bind(expires_at.to_db()?)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(inserted > 0)
    }

    /// Uses up a token: `true` exactly once for a stored, unexpired token, even
    /// when several requests present it at the same moment.
    pub async fn consume_token(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        let consumed = consume_token_in(&mut tx, token_hash, now).await?;
        tx.commit().await?;
        Ok(consumed)
    }
}

/// Deletes the token if valid; the delete is the claim, so only one
/// transaction can see its row go.
pub(super) async fn consume_token_in(
    tx: &mut WriteTx,
    token_hash: &[u8],
    now: Timestamp,
) -> Result<bool, StorageError> {
    let deleted =
        sqlx::query("DELETE FROM registration_tokens WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now.to_db()?)
            .execute(tx.conn())
            .await?
            .rows_affected();
    Ok(deleted > 0)
}
