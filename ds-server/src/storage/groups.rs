//! Creating, loading and listing groups. Changing one is in `group_change`.

use super::log::{NewLogEntry, insert_entries};
use super::numbers::{from_db, len_to_db, to_db};
use super::roster::{open_memberships, sorted};
use super::{StorageError, Store, Timestamp};

/// A group to create under a reserved id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    /// The reserved id.
    pub group_id: String,
    /// The MLS epoch of the initial state.
    pub epoch: u64,
    /// The serialised public group state (opaque to storage).
    pub state: Vec<u8>,
    /// This DS's clients in the group from the start; they read the log from
    /// sequence number 1.
    pub members: Vec<String>,
    /// Log entries to start with (may be empty); numbered from 1.
    pub entries: Vec<NewLogEntry>,
}

/// A group as loaded before running the protocol core on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGroupRow {
    /// Current MLS epoch; application messages are accepted only for it.
    pub epoch: u64,
    /// Bumped by every state change, including those within one epoch (a
    /// proposal by reference); the compare-and-set token of
    /// [`Store::commit_group_change`].
    pub revision: u64,
    /// The serialised public group state.
    pub state: Vec<u8>,
    /// The sequence number the next log entry will get.
    pub next_seq: u64,
}

/// What [`Store::create_group`] assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedGroup {
    /// The revision of the new group (0).
    pub revision: u64,
    /// The numbers of the initial entries, `1..=n`.
    pub entry_seqs: Vec<u64>,
}

impl Store {
    /// Turns a reserved id into a live group with its initial state, members
    /// and log entries, in one transaction. Fails with
    /// [`StorageError::GroupIdNotReserved`] unless the id is reserved, so a
    /// group is created at most once.
    pub async fn create_group(
        &self,
        group: &NewGroup,
        now: Timestamp,
    ) -> Result<CreatedGroup, StorageError> {
        let now = now.to_db()?;
        let epoch = to_db(group.epoch, "epoch")?;
        let next_seq = 1 + len_to_db(group.entries.len(), "number of log entries")?;
        let mut tx = self.begin_write().await?;
        let activated = sqlx::query(
            "UPDATE groups SET status = 'active', epoch = $1, revision = 0, next_seq = $2,
                               updated_at = $3
             WHERE group_id = $4 AND status = 'reserved'",
        )
        .bind(epoch)
        .bind(next_seq)
        .bind(now)
        .bind(&group.group_id)
        .execute(tx.conn())
        .await?;
        if activated.rows_affected() == 0 {
            return Err(StorageError::GroupIdNotReserved(group.group_id.clone()));
        }
        sqlx::query("INSERT INTO group_states (group_id, state) VALUES ($1, $2)")
            .bind(&group.group_id)
            .bind(&group.state)
            .execute(tx.conn())
            .await?;
        let entry_seqs = insert_entries(tx.conn(), &group.group_id, 1, &group.entries, now).await?;
        open_memberships(tx.conn(), &group.group_id, &group.members, 1).await?;
        tx.commit().await?;
        Ok(CreatedGroup {
            revision: 0,
            entry_seqs,
        })
    }

    /// The live group's state, or `None` if no active group has this id
    /// ([`Store::group_id_status`] tells reserved from deleted).
    pub async fn load_group(&self, group_id: &str) -> Result<Option<StoredGroupRow>, StorageError> {
        let row: Option<(i64, i64, Vec<u8>, i64)> = sqlx::query_as(
            "SELECT g.epoch, g.revision, s.state, g.next_seq
             FROM groups g JOIN group_states s ON s.group_id = g.group_id
             WHERE g.group_id = $1 AND g.status = 'active'",
        )
        .bind(group_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(epoch, revision, state, next_seq)| {
            Ok(StoredGroupRow {
                epoch: from_db(epoch, "epoch")?,
                revision: from_db(revision, "revision")?,
                state,
                next_seq: from_db(next_seq, "next_seq")?,
            })
        })
        .transpose()
    }

    /// This DS's clients currently in the group, sorted: whom to wake up
    /// after a new entry was committed.
    pub async fn current_members(&self, group_id: &str) -> Result<Vec<String>, StorageError> {
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT client_id FROM memberships WHERE group_id = $1 AND until_seq IS NULL",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(sorted(&members).into_iter().map(str::to_owned).collect())
    }
}
