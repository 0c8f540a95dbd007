//! Personal inboxes: Welcomes and DS notices addressed to one client, numbered
//! per client without gaps.

use sqlx::AnyConnection;

use super::numbers::from_db;
use super::{StorageError, Store, Timestamp};

/// A message for one client's inbox (a Welcome, a DS notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxEntry {
    /// The recipient, a client of this DS.
    pub client_id: String,
    /// The message bytes, opaque to storage.
    pub message: Vec<u8>,
}

impl Store {
    /// Puts one message into a client's inbox on its own (for example a Welcome
    /// that arrived from the group's owning DS) and returns its inbox number.
    pub async fn push_inbox(
        &self,
        entry: &NewInboxEntry,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        let seq = push(tx.conn(), &entry.client_id, &entry.message, now).await?;
        tx.commit().await?;
        Ok(seq)
    }
}

/// Allocates the client's next inbox number from its counter row (locked until
/// the transaction ends, so numbers are gap-free and in commit order) and
/// stores the message under it.
pub(super) async fn push(
    conn: &mut AnyConnection,
    client_id: &str,
    message: &[u8],
    now: i64,
) -> Result<u64, StorageError> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO inboxes (client_id, next_seq) VALUES ($1, 2)
         ON CONFLICT (client_id) DO UPDATE SET next_seq = inboxes.next_seq + 1
         RETURNING next_seq - 1",
    )
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO inbox_entries (client_id, seq, message, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(client_id)
    .bind(seq)
    .bind(message)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    from_db(seq, "inbox sequence number")
}
