//! The core write of the delivery service: one validated group operation
//! (commit, proposal, deletion) stored atomically.

use super::inbox::{self, NewInboxEntry};
use super::log::{NewLogEntry, insert_entries};
use super::numbers::{from_db, len_to_db, to_db};
use super::outbox::{self, NewOutboxEntry};
use super::roster::{close_all_memberships, close_memberships, open_memberships};
use super::{StorageError, Store, Timestamp};

/// Everything one group operation changes, as computed by the protocol core
/// from the state loaded with [`Store::load_group`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    /// The group.
    pub group_id: String,
    /// The epoch of the loaded state.
    pub expected_epoch: u64,
    /// The revision of the loaded state; the change applies only if nobody
    /// changed the group since.
    pub expected_revision: u64,
    /// The epoch after the change: the same (a proposal) or one more (a commit).
    pub new_epoch: u64,
    /// The serialised public group state after the change.
    pub new_state: Vec<u8>,
    /// Log entries to append, in order; the last one is the commit the roster
    /// changes take effect at.
    pub entries: Vec<NewLogEntry>,
    /// This DS's clients the commit adds: they read from the entry after it.
    pub added: Vec<String>,
    /// This DS's clients the commit removes: they read up to and including it.
    /// Applied before `added`, so a client both removed and added (a resync)
    /// keeps reading without a gap.
    pub removed: Vec<String>,
    /// Welcomes and notices for individual clients.
    pub inbox: Vec<NewInboxEntry>,
    /// Fan-outs to other DS domains, each tied to one of `entries` by index.
    pub outbox: Vec<NewOutboxEntry>,
    /// Delete the group after this change: its state is dropped, every
    /// membership ends at the last entry, and the id stays taken.
    pub delete_group: bool,
}

/// What [`Store::commit_group_change`] assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitResult {
    /// The group's revision after the change.
    pub revision: u64,
    /// The log numbers of `entries`, consecutive and in order.
    pub entry_seqs: Vec<u64>,
    /// The inbox numbers of `inbox`, in the order given.
    pub inbox_seqs: Vec<u64>,
}

impl Store {
    /// Stores a group operation in one transaction: the new state (only if the
    /// group is still at `expected_epoch`/`expected_revision`, else
    /// [`StorageError::EpochConflict`] and nothing is written), its log entries
    /// under gap-free numbers taken from the group row, the roster changes, the
    /// inbox entries and the outbox rows. The conditional update also locks the
    /// group row, so concurrent writers of one group, in this process or
    /// another, are serialised by the database.
    pub async fn commit_group_change(
        &self,
        change: &GroupChange,
        now: Timestamp,
    ) -> Result<CommitResult, StorageError> {
        check_change(change)?;
        let now = now.to_db()?;
        let entry_count = len_to_db(change.entries.len(), "number of log entries")?;
        let status = if change.delete_group {
            "deleted"
        } else {
            "active"
        };
        let mut tx = self.begin_write().await?;

        let updated: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE groups SET epoch = $1, revision = revision + 1,
                               next_seq = next_seq + $2, status = $3, updated_at = $4
             WHERE group_id = $5 AND status = 'active' AND epoch = $6 AND revision = $7
             RETURNING next_seq, revision",
        )
        .bind(to_db(change.new_epoch, "epoch")?)
        .bind(entry_count)
        .bind(status)
        .bind(now)
        .bind(&change.group_id)
        .bind(to_db(change.expected_epoch, "epoch")?)
        .bind(to_db(change.expected_revision, "revision")?)
        .fetch_optional(tx.conn())
        .await?;
        let Some((next_seq, revision)) = updated else {
            drop(tx);
            return Err(self.why_not_updated(&change.group_id).await?);
        };

        // The state lives apart from the group row (see migration 0002); the
        // row update above already holds the group's write lock.
        if change.delete_group {
            sqlx::query("DELETE FROM group_states WHERE group_id = $1")
                .bind(&change.group_id)
                .execute(tx.conn())
                .await?;
        } else {
            sqlx::query("UPDATE group_states SET state = $1 WHERE group_id = $2")
                .bind(&change.new_state[..])
                .bind(&change.group_id)
                .execute(tx.conn())
                .await?;
        }

        let first_seq = next_seq - entry_count;
        let last_seq = next_seq - 1;
        let entry_seqs =
            insert_entries(tx.conn(), &change.group_id, first_seq, &change.entries, now).await?;
        if change.delete_group {
            close_all_memberships(tx.conn(), &change.group_id, last_seq).await?;
        } else {
            close_memberships(tx.conn(), &change.group_id, &change.removed, last_seq).await?;
            open_memberships(tx.conn(), &change.group_id, &change.added, next_seq).await?;
        }
        let inbox_seqs = push_inbox_in_lock_order(&mut tx, &change.inbox, now).await?;
        let seqs: Vec<i64> = (first_seq..next_seq).collect();
        outbox::enqueue(tx.conn(), &change.outbox, &change.group_id, &seqs, now).await?;
        tx.commit().await?;

        Ok(CommitResult {
            revision: from_db(revision, "revision")?,
            entry_seqs,
            inbox_seqs,
        })
    }

    /// Tells a lost race from a missing group after a conditional update hit no row.
    async fn why_not_updated(&self, group_id: &str) -> Result<StorageError, StorageError> {
        Ok(match self.load_group(group_id).await? {
            Some(_) => StorageError::EpochConflict {
                group_id: group_id.to_owned(),
            },
            None => StorageError::GroupNotFound(group_id.to_owned()),
        })
    }
}

/// Invariants a change must satisfy whatever the state: epochs move forward by
/// at most one, and roster changes and deletions need a log entry to anchor to.
fn check_change(change: &GroupChange) -> Result<(), StorageError> {
    let next_epoch = change.expected_epoch.checked_add(1);
    if change.new_epoch != change.expected_epoch && Some(change.new_epoch) != next_epoch {
        return Err(StorageError::InvalidRequest(
            "a group change keeps the epoch or advances it by one",
        ));
    }
    let anchored = !change.entries.is_empty();
    if !anchored && (!change.added.is_empty() || !change.removed.is_empty() || change.delete_group)
    {
        return Err(StorageError::InvalidRequest(
            "roster changes and deletions take effect at a log entry; none was given",
        ));
    }
    Ok(())
}

/// Pushes inbox entries in client order (one lock order for every transaction,
/// so PostgreSQL never deadlocks two commits) and returns their numbers in the
/// caller's order.
async fn push_inbox_in_lock_order(
    tx: &mut super::store::WriteTx,
    entries: &[NewInboxEntry],
    now: i64,
) -> Result<Vec<u64>, StorageError> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| entries[a].client_id.cmp(&entries[b].client_id));
    let mut seqs = vec![0; entries.len()];
    for index in order {
        let entry = &entries[index];
        seqs[index] = inbox::push(tx.conn(), &entry.client_id, &entry.message, now).await?;
    }
    Ok(seqs)
}
