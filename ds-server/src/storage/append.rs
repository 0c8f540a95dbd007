//! Application messages: the hot path. Many concurrent sends are written in
//! one transaction (group commit), and each costs the same whatever the size
//! of its group: one log row, one group-row update, and one outbox row per
//! other DS domain — never a row per recipient.

use super::log::{LogRow, insert_rows};
use super::numbers::{from_db, len_to_db, to_db};
use super::outbox::{self, NewOutboxEntry, OutboxInsert};
use super::{StorageError, Store, Timestamp};

/// One application message to append to its group's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// The group.
    pub group_id: String,
    /// The epoch the message was validated against; the append happens only
    /// if the group is still in it.
    pub expected_epoch: u64,
    /// The sending client.
    pub sender: String,
    /// The message bytes, opaque to storage.
    pub message: Vec<u8>,
    /// Fan-outs to the other DS domains with members in the group; their
    /// `entry_index` is 0, the message's own entry.
    pub outbox: Vec<NewOutboxEntry>,
}

/// Why one message of a batch was not appended; the others are unaffected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AppendRejected {
    /// The group has moved to another epoch since the message was validated.
    #[error("the group is no longer in the message's epoch")]
    EpochConflict,
    /// No active group has this id.
    #[error("no active group with this id")]
    GroupNotFound,
}

impl Store {
    /// Appends a batch of application messages in one transaction. Each message
    /// gets the next gap-free number of its group if the group is still at its
    /// `expected_epoch`, else its own [`AppendRejected`]; results are in the
    /// batch's order, and messages of one group keep their relative order.
    /// An `Err` means the whole batch failed and nothing was written.
    pub async fn append_messages(
        &self,
        batch: &[AppendMessage],
        now: Timestamp,
    ) -> Result<Vec<Result<u64, AppendRejected>>, StorageError> {
        let now = now.to_db()?;
        // Group rows are locked in one global order, so two batches touching
        // the same groups can never deadlock on PostgreSQL; the sort is
        // stable, so one group's messages keep their order.
        let mut order: Vec<usize> = (0..batch.len()).collect();
        order.sort_by(|&a, &b| {
            (&batch[a].group_id, batch[a].expected_epoch)
                .cmp(&(&batch[b].group_id, batch[b].expected_epoch))
        });

        let mut results = vec![Err(AppendRejected::GroupNotFound); batch.len()];
        let mut tx = self.begin_write().await?;
        // One group-row update allocates the numbers of all of a group's
        // messages validated in the same epoch; their rows go in together.
        for run in order.chunk_by(|&a, &b| {
            batch[a].group_id == batch[b].group_id
                && batch[a].expected_epoch == batch[b].expected_epoch
        }) {
            let head = &batch[run[0]];
            let count = len_to_db(run.len(), "append batch size")?;
            let first: Option<i64> = sqlx::query_scalar(
                "UPDATE groups SET next_seq = next_seq + $1
                 WHERE group_id = $2 AND status = 'active' AND epoch = $3
                 RETURNING next_seq - $1",
            )
            .bind(count)
            .bind(&head.group_id)
            .bind(to_db(head.expected_epoch, "epoch")?)
            .fetch_optional(tx.conn())
            .await?;
            let Some(first) = first else {
                let rejected = rejection(&mut tx, &head.group_id).await?;
                for &index in run {
                    results[index] = Err(rejected);
                }
                continue;
            };
            let rows: Vec<LogRow<'_>> = run
                .iter()
                .zip(first..)
                .map(|(&index, seq)| LogRow {
                    seq,
                    sender: Some(batch[index].sender.as_str()),
                    message: &batch[index].message,
                })
                .collect();
            insert_rows(tx.conn(), &head.group_id, &rows, now).await?;
            let mut outbox_rows = Vec::new();
            for (&index, seq) in run.iter().zip(first..) {
                let item = &batch[index];
                for entry in &item.outbox {
                    if entry.entry_index != 0 {
                        return Err(StorageError::InvalidRequest(
                            "an appended message writes one log entry; its outbox rows name entry 0",
                        ));
                    }
                    outbox_rows.push(OutboxInsert {
                        destination: &entry.destination,
                        group_id: &item.group_id,
                        seq,
                        payload: &entry.payload,
                    });
                }
                results[index] = Ok(from_db(seq, "log sequence number")?);
            }
            // The run's fan-outs in one go, in log order (ids follow it).
            outbox::insert(tx.conn(), &outbox_rows, now).await?;
        }
        tx.commit().await?;
        Ok(results)
    }
}

/// Tells an epoch conflict from a missing group, inside the batch's transaction.
async fn rejection(
    tx: &mut super::store::WriteTx,
    group_id: &str,
) -> Result<AppendRejected, StorageError> {
    let active: Option<i64> =
        sqlx::query_scalar("SELECT epoch FROM groups WHERE group_id = $1 AND status = 'active'")
            .bind(group_id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(match active {
        Some(_) => AppendRejected::EpochConflict,
        None => AppendRejected::GroupNotFound,
    })
}
