//! Appending to a group's log. Sequence numbers are allocated by the caller
//! from the group row it has just updated, inside the same transaction, so
//! they are gap-free and in commit order.

use sqlx::AnyConnection;

use super::StorageError;
use super::numbers::{from_db, len_to_db};
use super::placeholders::values_rows;

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
    let mut rows = Vec::with_capacity(entries.len());
    let mut seqs = Vec::with_capacity(entries.len());
    for (offset, entry) in entries.iter().enumerate() {
        let seq = first_seq + len_to_db(offset, "log entry index")?;
        rows.push(LogRow {
            seq,
            sender: entry.sender.as_deref(),
            message: &entry.message,
        });
        seqs.push(from_db(seq, "log sequence number")?);
    }
    insert_rows(conn, group_id, &rows, now).await?;
    Ok(seqs)
}

/// One row for [`insert_rows`].
pub(super) struct LogRow<'a> {
    pub seq: i64,
    pub sender: Option<&'a str>,
    pub message: &'a [u8],
}

/// Rows per multi-row `INSERT` (5 parameters each: well inside both
/// databases' parameter limits).
const ROWS_PER_INSERT: usize = 128;

/// Writes many entries of one group with as few statements as possible.
pub(super) async fn insert_rows(
    conn: &mut AnyConnection,
    group_id: &str,
    rows: &[LogRow<'_>],
    now: i64,
) -> Result<(), StorageError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO group_log (group_id, seq, sender, message, created_at) VALUES {}",
            values_rows(chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(group_id)
                .bind(row.seq)
                .bind(row.sender)
                .bind(row.message)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
