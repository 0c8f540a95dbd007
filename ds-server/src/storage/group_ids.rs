//! Group id reservation (`ds_request_group_id`): the owning DS hands out ids,
//! and an id is never handed out twice.

use super::{StorageError, Store, Timestamp};

/// Where a group id stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupIdStatus {
    /// Never reserved here: may be allocated.
    Free,
    /// Allocated, but no group was created with it yet.
    Reserved,
    /// A live group.
    InUse,
    /// The group was deleted; the id stays taken forever.
    Deleted,
}

impl Store {
    /// Reserves `group_id` for a group about to be created. Fails with
    /// [`StorageError::GroupIdTaken`] if the id was ever reserved or used, so
    /// two requesters can never be handed the same id.
    pub async fn allocate_group_id(
        &self,
        group_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO groups (group_id, status, reserved_at, updated_at)
             VALUES ($1, 'reserved', $2, $3)
             ON CONFLICT (group_id) DO NOTHING",
        )
        .bind(group_id)
        .bind(now)
        .bind(now)
        .execute(tx.conn())
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StorageError::GroupIdTaken(group_id.to_owned()));
        }
        tx.commit().await
    }

    /// Tells whether `group_id` is free, reserved, in use or deleted.
    pub async fn group_id_status(&self, group_id: &str) -> Result<GroupIdStatus, StorageError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM groups WHERE group_id = $1")
                .bind(group_id)
                .fetch_optional(&self.pool)
                .await?;
        match status.as_deref() {
            None => Ok(GroupIdStatus::Free),
            Some("reserved") => Ok(GroupIdStatus::Reserved),
            Some("active") => Ok(GroupIdStatus::InUse),
            Some("deleted") => Ok(GroupIdStatus::Deleted),
            Some(other) => Err(StorageError::Corrupt {
                what: "group status",
                value: other.to_owned(),
            }),
        }
    }

    /// Frees reservations made before `reserved_before` that never became a
    /// group (a client that asked for an id and went away). Returns how many.
    pub async fn release_stale_reservations(
        &self,
        reserved_before: Timestamp,
    ) -> Result<u64, StorageError> {
        let cutoff = reserved_before.to_db()?;
        let mut tx = self.begin_write().await?;
        let released =
            sqlx::query("DELETE FROM groups WHERE status = 'reserved' AND reserved_at < $1")
                .bind(cutoff)
                .execute(tx.conn())
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(released)
    }
}
