//! Registered clients of this DS and the keys their queue and key-package
//! requests are signed with.

use super::tokens::consume_token_in;
use super::{StorageError, Store, Timestamp};

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClient {
    /// The client id (`user@domain` plus a device part).
    pub client_id: String,
    /// The key its requests are signed with.
    pub signature_key: Vec<u8>,
    /// When it registered.
    pub registered_at: Timestamp,
    /// When it was last seen (see [`Store::touch_client`]).
    pub last_seen: Timestamp,
}

/// Deletes everything kept for one client; the client row goes last.
const DELETE_CLIENT_DATA: [&str; 6] = [
    "DELETE FROM key_packages WHERE client_id = $1",
    "DELETE FROM request_nonces WHERE client_id = $1",
    "DELETE FROM inbox_entries WHERE client_id = $1",
    "DELETE FROM inboxes WHERE client_id = $1",
    "DELETE FROM group_cursors WHERE client_id = $1",
    "DELETE FROM memberships WHERE client_id = $1",
];

impl Store {
    /// Registers a client with its request-signing key. Fails with
    /// [`StorageError::ClientExists`] if the id is taken: a key is never
    /// silently replaced.
    pub async fn register_client(
        &self,
        client_id: &str,
        signature_key: &[u8],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        insert_client(&mut tx, client_id, signature_key, now).await?;
        tx.commit().await
    }

    /// Consumes a one-time registration token and registers the client in one
    /// transaction: if the id is taken the token stays valid, and a token
    /// never registers two clients.
    pub async fn register_client_with_token(
        &self,
        token_hash: &[u8],
        client_id: &str,
        signature_key: &[u8],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin_write().await?;
        if !consume_token_in(&mut tx, token_hash, now).await? {
            return Err(StorageError::InvalidToken);
        }
        insert_client(&mut tx, client_id, signature_key, now).await?;
        tx.commit().await
    }

    /// The registered client, if any.
    pub async fn client(&self, client_id: &str) -> Result<Option<StoredClient>, StorageError> {
        let row: Option<(String, Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT client_id, signature_key, registered_at, last_seen FROM clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(client_id, signature_key, registered_at, last_seen)| {
            Ok(StoredClient {
                client_id,
                signature_key,
                registered_at: Timestamp::from_db(registered_at)?,
                last_seen: Timestamp::from_db(last_seen)?,
            })
        })
        .transpose()
    }

    /// The registered clients of user `user_id` (`local@domain`), sorted.
    /// A client id is the user id, `/` and a device part, so these are the
    /// ids starting with `user_id/`. `LIKE` narrows the scan (its wildcards
    /// in the user id escaped); the prefix is checked again here because
    /// SQLite's `LIKE` ignores ASCII case.
    pub async fn clients_of_user(&self, user_id: &str) -> Result<Vec<String>, StorageError> {
        let prefix = format!("{user_id}/");
        let pattern = format!("{}%", escape_like(&prefix));
        let mut clients: Vec<String> =
            sqlx::query_scalar("SELECT client_id FROM clients WHERE client_id LIKE $1 ESCAPE '!'")
                .bind(pattern)
                .fetch_all(&self.pool)
                .await?;
        clients.retain(|client| client.starts_with(&prefix));
        clients.sort_unstable();
        Ok(clients)
    }

    /// Notes that the client was active at `now` (never moves the time back).
    /// Returns whether the client exists.
    pub async fn touch_client(
        &self,
        client_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE clients SET last_seen = CASE WHEN last_seen < $1 THEN $1 ELSE last_seen END
             WHERE client_id = $2",
        )
        .bind(now)
        .bind(client_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(updated > 0)
    }

    /// Deletes the client and everything kept for it: key packages, nonces,
    /// inbox, cursors and memberships (so it no longer holds back purging).
    /// The groups' MLS rosters are the protocol core's business. Returns
    /// whether the client was registered.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool, StorageError> {
        let mut tx = self.begin_write().await?;
        for statement in DELETE_CLIENT_DATA {
            sqlx::query(statement)
                .bind(client_id)
                .execute(tx.conn())
                .await?;
        }
        let deleted_client = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted_client > 0)
    }

    /// Clients not seen since `since`, sorted (candidates for removal from
    /// their groups and deletion).
    pub async fn clients_inactive_since(
        &self,
        since: Timestamp,
    ) -> Result<Vec<String>, StorageError> {
        let mut clients: Vec<String> =
            sqlx::query_scalar("SELECT client_id FROM clients WHERE last_seen < $1")
                .bind(since.to_db()?)
                .fetch_all(&self.pool)
                .await?;
        clients.sort_unstable();
        Ok(clients)
    }
}

async fn insert_client(
    tx: &mut super::store::WriteTx,
    client_id: &str,
    signature_key: &[u8],
    now: Timestamp,
) -> Result<(), StorageError> {
    let now = now.to_db()?;
    let inserted = sqlx::query(
        "INSERT INTO clients (client_id, signature_key, registered_at, last_seen)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (client_id) DO NOTHING",
    )
    .bind(client_id)
    .bind(signature_key)
    .bind(now)
    .bind(now)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(StorageError::ClientExists(client_id.to_owned()));
    }
    Ok(())
}

/// `text` with the `LIKE` wildcards `%` and `_` (and the escape `!`) escaped.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '!') {
            escaped.push('!');
        }
        escaped.push(c);
    }
    escaped
}
