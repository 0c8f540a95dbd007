//! Fan-outs a destination refused on their own: moved out of the outbox so
//! they stop blocking the destination, and kept with the refusal for the
//! operator (nothing re-sends them).

use sqlx::AnyConnection;

use super::numbers::{from_db, len_to_db, to_db};
use super::{StorageError, Store, Timestamp};

/// A fan-out given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its former outbox id.
    pub id: u64,
    /// The DS domain that refused it.
    pub destination: String,
    /// The group and log entry it carried.
    pub group_id: Option<String>,
    /// The log entry's number.
    pub seq: Option<u64>,
    /// What was sent.
    pub payload: Vec<u8>,
    /// When it was written to the outbox.
    pub created_at: Timestamp,
    /// When it was given up.
    pub dropped_at: Timestamp,
    /// Why (the refusal's error code name).
    pub reason: String,
}

type DeadLetterRow = (
    i64,
    String,
    Option<String>,
    Option<i64>,
    Vec<u8>,
    i64,
    i64,
    String,
);

impl Store {
    /// Moves outbox row `id` to the dead letters with `reason`, in one
    /// transaction. Returns false if the row was already gone (delivered or
    /// moved by another process).
    pub async fn outbox_dead_letter(
        &self,
        id: u64,
        reason: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let id = to_db(id, "outbox id")?;
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "INSERT INTO outbox_dead_letters
                 (id, destination, group_id, seq, payload, created_at, dropped_at, reason)
             SELECT id, destination, group_id, seq, payload, created_at, $2, $3
             FROM outbox WHERE id = $1",
        )
        .bind(id)
        .bind(now.to_db()?)
        .bind(reason)
        .execute(tx.conn())
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(moved == 1)
    }

    /// The oldest `limit` dead letters of `destination`.
    pub async fn outbox_dead_letters(
        &self,
        destination: &str,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StorageError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(
            "SELECT id, destination, group_id, seq, payload, created_at, dropped_at, reason
             FROM outbox_dead_letters WHERE destination = $1 ORDER BY id LIMIT $2",
        )
        .bind(destination)
        .bind(len_to_db(limit, "dead letter page size")?)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(id, destination, group_id, seq, payload, created_at, dropped_at, reason)| {
                    Ok(DeadLetter {
                        id: from_db(id, "outbox id")?,
                        destination,
                        group_id,
                        seq: seq.map(|s| from_db(s, "outbox seq")).transpose()?,
                        payload,
                        created_at: Timestamp::from_db(created_at)?,
                        dropped_at: Timestamp::from_db(dropped_at)?,
                        reason,
                    })
                },
            )
            .collect()
    }

    /// How many fan-outs were given up on and are still kept (a status figure).
    pub async fn dead_letter_count(&self) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox_dead_letters")
            .fetch_one(&self.pool)
            .await?;
        from_db(count, "dead letter count")
    }
}

/// Forgets dead letters given up before `cutoff` (the log retention: they are
/// kept as long as the entries they carried would have been).
pub(super) async fn purge(conn: &mut AnyConnection, cutoff: i64) -> Result<u64, StorageError> {
    Ok(
        sqlx::query("DELETE FROM outbox_dead_letters WHERE dropped_at < $1")
            .bind(cutoff)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
