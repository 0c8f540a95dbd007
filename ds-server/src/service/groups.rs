//! Group operations: allocation, creation, and every request addressed to an
//! existing group.

use ds_core::group::{DsGroup, Outcome};
use ds_core::wire::{
    ClientId, CreateGroupRequest, DsError, DsErrorCode, DsRequest, DsRequestBody, DsResponseBody,
    GroupId,
};
use openmls_traits::random::OpenMlsRand;

use super::DsService;
use super::cache::CachedGroup;
use super::errors::internal;
use super::fanout::plan;
use super::metrics::record_log_entries;
use crate::storage::{GroupChange, GroupIdStatus, NewGroup, StorageError, Timestamp};

/// How often an operation is re-run after another writer changed the group.
pub(super) const ATTEMPTS: usize = 3;

pub(super) fn now() -> Timestamp {
    Timestamp::now()
}

impl DsService {
    /// `request_group_id`: a fresh random id of this domain, reserved in storage.
    pub(super) async fn request_group_id(&self) -> Result<DsResponseBody, DsError> {
        let ctx = &self.inner.ctx;
        for _ in 0..ATTEMPTS {
            let random = ctx
                .crypto()
                .random_vec(16)
                .map_err(|_| DsError::new(DsErrorCode::InternalError, "no randomness"))?;
            let local: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let id = GroupId::from_parts(&local, ctx.domain())
                .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))?;
            match self.inner.store.allocate_group_id(id.as_str(), now()).await {
                Ok(()) => return Ok(DsResponseBody::GroupId(id)),
                Err(StorageError::GroupIdTaken(_)) => continue,
                Err(e) => return Err(internal(e)),
            }
        }
        Err(DsError::new(
            DsErrorCode::InternalError,
            "could not allocate a free group id",
        ))
    }

    /// `create_group`: the id must have been reserved here and not used.
    pub(super) async fn create_group(
        &self,
        request: &DsRequest,
        body: &CreateGroupRequest,
    ) -> Result<DsResponseBody, DsError> {
        let inner = &self.inner;
        if !matches!(request.auth, ds_core::wire::DsAuthData::Anonymous) {
            return Err(DsError::new(
                DsErrorCode::WrongAuthType,
                "create_group is authenticated by its GroupInfo; use Anonymous",
            ));
        }
        let id = &body.group_id;
        // Another domain's id may name a replica here (federation); it was never allocated.
        if id.domain() != inner.ctx.domain().as_str() {
            return Err(DsError::new(
                DsErrorCode::InvalidGroupId,
                format!("{id} is not of this DS's domain"),
            ));
        }
        match inner
            .store
            .group_id_status(id.as_str())
            .await
            .map_err(internal)?
        {
            GroupIdStatus::Reserved => {}
            GroupIdStatus::Free => {
                return Err(DsError::new(
                    DsErrorCode::InvalidGroupId,
                    format!("{id} was not allocated by request_group_id"),
                ));
            }
            GroupIdStatus::InUse | GroupIdStatus::Deleted => {
                return Err(DsError::new(
                    DsErrorCode::GroupIdInUse,
                    format!("{id} is taken"),
                ));
            }
        }
        let (group, outcome) = DsGroup::create(&inner.ctx, body, now().unix_secs())?;
        let local = inner.ctx.domain().as_str();
        let members = plan(&outcome, id, local, &Default::default()).added;
        let state = group.to_bytes()?;
        let slot = inner.cache.slot(id);
        let mut cached = slot.write().await;
        let created = inner
            .store
            .create_group(
                &NewGroup {
                    group_id: id.as_str().to_owned(),
                    epoch: group.epoch(),
                    state,
                    members,
                    entries: Vec::new(),
                },
                now(),
            )
            .await;
        match created {
            Ok(created) => {
                *cached = Some(CachedGroup::new(group, created.revision));
                Ok(outcome.response)
            }
            Err(StorageError::GroupIdNotReserved(_)) | Err(StorageError::GroupIdTaken(_)) => {
                Err(DsError::new(
                    DsErrorCode::GroupIdInUse,
                    format!("{id} was taken meanwhile"),
                ))
            }
            Err(e) => Err(internal(e)),
        }
    }

    /// Any request addressed to an existing group.
    pub(super) async fn group_operation(
        &self,
        request: &DsRequest,
        requester: Option<&ClientId>,
    ) -> Result<DsResponseBody, DsError> {
        let inner = &self.inner;
        let id = request.group_id().ok_or_else(|| {
            DsError::new(
                DsErrorCode::MalformedMessage,
                "the request's MLS message names no well-formed group",
            )
        })?;
        if id.domain() != inner.ctx.domain().as_str() {
            return Err(DsError::new(
                DsErrorCode::GroupNotFound,
                format!("{id} is owned by {}, not by this DS", id.domain()),
            ));
        }
        let is_message = matches!(request.body, DsRequestBody::SendMessage(_));
        if is_message {
            return self.send_message(&id, request, requester).await;
        }
        self.on_group(&id, is_message, |group| {
            group.process(&inner.ctx, request, requester, now().unix_secs())
        })
        .await
    }

    /// Runs the engine `step` on group `id` under the group's lock and stores
    /// its outcome. If another writer changed the group first, the state is
    /// reloaded and `step` runs again (at most [`ATTEMPTS`] times). A step
    /// with `message` set that leaves the state unchanged is an application
    /// message: it is appended to the log without rewriting the state.
    pub(super) async fn on_group(
        &self,
        id: &GroupId,
        message: bool,
        mut step: impl FnMut(&mut DsGroup) -> Result<Outcome, DsError>,
    ) -> Result<DsResponseBody, DsError> {
        let slot = self.inner.cache.slot(id);
        let mut cached = slot.write().await;
        for _ in 0..ATTEMPTS {
            if cached.is_none() {
                *cached = Some(self.load(id).await?);
            }
            let Some(entry) = cached.as_mut() else {
                continue;
            };
            match self.run(entry, id, message, &mut step).await {
                Ok(Written::Done(body)) => return Ok(body),
                Ok(Written::Deleted(body)) => {
                    *cached = None;
                    return Ok(body);
                }
                Ok(Written::Conflict) => *cached = None,
                Err(e) => {
                    // The engine leaves the state unchanged on its own errors;
                    // a storage failure may leave the cache ahead of storage.
                    if e.code == DsErrorCode::InternalError {
                        *cached = None;
                    }
                    return Err(e);
                }
            }
        }
        Err(DsError::new(
            DsErrorCode::WrongEpoch,
            "the group kept changing while this request was processed; retry",
        ))
    }

    /// Loads a group from storage.
    pub(super) async fn load(&self, id: &GroupId) -> Result<CachedGroup, DsError> {
        let row = self
            .inner
            .store
            .load_group(id.as_str())
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                DsError::new(DsErrorCode::GroupNotFound, format!("no group {id} here"))
            })?;
        Ok(CachedGroup::new(
            DsGroup::from_bytes(&row.state)?,
            row.revision,
        ))
    }

    /// Runs the engine on the cached state and stores the outcome. A step
    /// that opened a new epoch also re-issues the DS's pending removals
    /// (stored in the same transaction as the commit).
    async fn run(
        &self,
        entry: &mut CachedGroup,
        id: &GroupId,
        message: bool,
        step: &mut impl FnMut(&mut DsGroup) -> Result<Outcome, DsError>,
    ) -> Result<Written, DsError> {
        let inner = &self.inner;
        let local = inner.ctx.domain().as_str();
        let remote_before = entry.remote_members(local);
        let epoch = entry.group.epoch();
        let mut outcome = step(&mut entry.group)?;
        if entry.group.epoch() != epoch {
            self.propose_due_removals(&mut entry.group, &mut outcome);
        }
        if message && !outcome.state_changed {
            let roster = entry.group.roster();
            return self
                .append(id, epoch, &outcome, &remote_before, roster)
                .await;
        }
        if !outcome.state_changed {
            return Ok(Written::Done(outcome.response));
        }
        let plan = plan(&outcome, id, local, &remote_before);
        let change = GroupChange {
            group_id: id.as_str().to_owned(),
            expected_epoch: epoch,
            expected_revision: entry.revision,
            new_epoch: entry.group.epoch(),
            new_state: entry.group.to_bytes()?,
            entries: plan.entries,
            added: plan.added,
            removed: plan.removed,
            inbox: plan.inbox,
            outbox: plan.outbox,
            delete_group: plan.delete_group,
        };
        let committed = inner.store.commit_group_change(&change, now()).await;
        if committed.is_ok() {
            // Only after the commit: push feeds re-read what is now stored.
            inner
                .notifier
                .wake_group_change(entry.group.roster(), &change);
            if !change.outbox.is_empty() {
                self.inner.fanout_wake.wake();
            }
            record_log_entries(change.entries.len());
        }
        match committed {
            Ok(_) if change.delete_group => Ok(Written::Deleted(outcome.response)),
            Ok(result) => {
                entry.revision = result.revision;
                Ok(Written::Done(outcome.response))
            }
            Err(StorageError::EpochConflict { .. }) => Ok(Written::Conflict),
            Err(e) => Err(internal(e)),
        }
    }
}

/// What storing an outcome came to.
pub(super) enum Written {
    /// Stored (or nothing to store); answer this.
    Done(DsResponseBody),
    /// Stored, and the group is gone.
    Deleted(DsResponseBody),
    /// Another writer changed the group first: reload and run again.
    Conflict,
}
