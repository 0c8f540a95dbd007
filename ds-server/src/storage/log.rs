//! Appending to a group's log. Sequence numbers are allocated by the caller
//! from the group row it has just updated, inside the same transaction, so
//! they are gap-free and in commit order.

use sqlx::AnyConnection;

use super::StorageError;
use super::numbers::{from_db, len_to_db};

/// A message to append to a group's log: stored once, whatever the group's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEntry {
    /// The client that sent it; `None` for the DS's own messages (for example
    /// its Remove proposals as external sender).
    pub sender: Option<String>,
    /// The message bytes, opaque to storage.
    pub message: Vec<u8>,
}

/// Writes `entries` under `first_seq, first_seq + 1, …` and returns those numbers.
pub(super) async fn insert_entries(
    conn: &mut AnyConnection,
    group_id: &str,
    first_seq: i64,
    entries: &[NewLogEntry],
    now: i64,
) -> Result<Vec<u64>, StorageError> {
    let mut seqs = Vec::with_capacity(entries.len());
    for (offset, entry) in entries.iter().enumerate() {
        let seq = first_seq + len_to_db(offset, "log entry index")?;
        insert_entry(
            conn,
            group_id,
            seq,
            entry.sender.as_deref(),
            &entry.message,
            now,
        )
        .await?;
        seqs.push(from_db(seq, "log sequence number")?);
    }
    Ok(seqs)
}

/// Writes one log entry under an already allocated sequence number.
pub(super) async fn insert_entry(
    conn: &mut AnyConnection,
    group_id: &str,
    seq: i64,
    sender: Option<&str>,
    message: &[u8],
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO group_log (group_id, seq, sender, message, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(group_id)
    .bind(seq)
    .bind(sender)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
