//! The durable fan-out outbox: messages for other DS domains, written in the
//! same transaction as the change that caused them and deleted only once the
//! destination acknowledged them (or moved aside, see [`Store::outbox_dead_letter`]).
//!
//! Order: rows are read in `id` order per destination. All writers of one
//! group are serialised by that group's row, so a later change of a group
//! always gets a larger id than an earlier one and becomes visible after it:
//! each group's fan-out reaches a destination in order. Rows of different
//! groups may interleave.

use sqlx::AnyConnection;

use super::numbers::{from_db, len_to_db, to_db};
use super::placeholders::{in_list, values_rows};
use super::{StorageError, Store, Timestamp};

/// A fan-out to write with a group change or message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxEntry {
    /// The DS domain to deliver to.
    pub destination: String,
    /// Which of the operation's log entries this fan-out carries (an index
    /// into its entries; a Welcome names the commit that added its
    /// recipients). The row keeps that entry's number.
    pub entry_index: usize,
    /// What to send, opaque to storage (the federation layer signs and wraps it).
    pub payload: Vec<u8>,
}

/// A pending fan-out as read back by the federation sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Delivery order within the destination; the handle for [`Store::outbox_delete`].
    pub id: u64,
    /// The DS domain to deliver to.
    pub destination: String,
    /// The group whose log entry `seq` this fan-out carries.
    pub group_id: Option<String>,
    /// The number of that log entry, so the receiving DS keeps it under the
    /// same number.
    pub seq: Option<u64>,
    /// What to send.
    pub payload: Vec<u8>,
    /// When it was written.
    pub created_at: Timestamp,
}

/// How much waits for one destination (for the backlog gauges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// The DS domain.
    pub destination: String,
    /// Undelivered fan-outs.
    pub depth: u64,
    /// When the oldest of them was written.
    pub oldest: Timestamp,
}

/// Writes fan-outs of one operation whose log entries got the numbers
/// `entry_seqs` (in the operation's order).
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    entries: &[NewOutboxEntry],
    group_id: &str,
    entry_seqs: &[i64],
    now: i64,
) -> Result<(), StorageError> {
    let rows = entries
        .iter()
        .map(|entry| {
            let seq = entry_seqs
                .get(entry.entry_index)
                .ok_or(StorageError::InvalidRequest(
                    "an outbox entry names a log entry the operation does not write",
                ))?;
            Ok(OutboxInsert {
                destination: &entry.destination,
                group_id,
                seq: *seq,
                payload: &entry.payload,
            })
        })
        .collect::<Result<Vec<_>, StorageError>>()?;
    insert(conn, &rows, now).await
}

/// One outbox row to write.
#[derive(Debug, Clone, Copy)]
pub(super) struct OutboxInsert<'a> {
    pub destination: &'a str,
    pub group_id: &'a str,
    pub seq: i64,
    pub payload: &'a [u8],
}

/// Rows per INSERT statement (5 parameters each; SQLite allows 32766).
const ROWS_PER_INSERT: usize = 400;

/// Writes `rows` with a few multi-row INSERTs (ids are assigned in row order).
pub(super) async fn insert(
    conn: &mut AnyConnection,
    rows: &[OutboxInsert<'_>],
    now: i64,
) -> Result<(), StorageError> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO outbox (destination, group_id, seq, payload, created_at) VALUES {}",
            values_rows(chunk.len(), 5)
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(row.destination)
                .bind(row.group_id)
                .bind(row.seq)
                .bind(row.payload)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

type OutboxRow = (i64, String, Option<String>, Option<i64>, Vec<u8>, i64);

impl Store {
    /// The oldest `limit` undelivered fan-outs for `destination`, in delivery order.
    pub async fn outbox_pending(
        &self,
        destination: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, destination, group_id, seq, payload, created_at
             FROM outbox WHERE destination = $1 ORDER BY id LIMIT $2",
        )
        .bind(destination)
        .bind(len_to_db(limit, "outbox page size")?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, destination, group_id, seq, payload, created_at)| {
                Ok(OutboxEntry {
                    id: from_db(id, "outbox id")?,
                    destination,
                    group_id,
                    seq: seq.map(|seq| from_db(seq, "outbox seq")).transpose()?,
                    payload,
                    created_at: Timestamp::from_db(created_at)?,
                })
            })
            .collect()
    }

    /// Forgets fan-outs the destination acknowledged. Unknown ids are ignored,
    /// so a repeated acknowledgement is harmless. Returns how many were deleted.
    pub async fn outbox_delete(&self, ids: &[u64]) -> Result<u64, StorageError> {
        let ids = ids
            .iter()
            .map(|&id| to_db(id, "outbox id"))
            .collect::<Result<Vec<i64>, StorageError>>()?;
        let mut tx = self.begin_write().await?;
        let mut deleted = 0;
        // One statement per chunk: a delivered batch is deleted at once.
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let sql = format!("DELETE FROM outbox WHERE id IN ({})", in_list(chunk.len()));
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            deleted += query.execute(tx.conn()).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// How many fan-outs wait for delivery, over all destinations (a metric).
    pub async fn outbox_depth(&self) -> Result<u64, StorageError> {
        let depth: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        from_db(depth, "outbox depth")
    }

    /// The destinations that have pending fan-outs (so a sender knows whom to serve).
    pub async fn outbox_destinations(&self) -> Result<Vec<String>, StorageError> {
        let mut destinations: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT destination FROM outbox")
                .fetch_all(&self.pool)
                .await?;
        destinations.sort_unstable();
        Ok(destinations)
    }

    /// Per destination with pending fan-outs: how many, and since when.
    pub async fn outbox_backlog(&self) -> Result<Vec<OutboxBacklog>, StorageError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT destination, COUNT(*), MIN(created_at) FROM outbox
             GROUP BY destination ORDER BY destination",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(destination, depth, oldest)| {
                Ok(OutboxBacklog {
                    destination,
                    depth: from_db(depth, "outbox depth")?,
                    oldest: Timestamp::from_db(oldest)?,
                })
            })
            .collect()
    }
}
