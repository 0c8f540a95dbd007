//! `send_message`, the hot path. A message does not change the group state,
//! so many are checked at once against the shared cached state (read lock)
//! and appended through the group-commit queue: concurrent sends share one
//! storage transaction. The group's epoch is re-checked by the append
//! itself, so a commit by another process in between is caught there and
//! the message is checked again against the new state.

use ds_core::group::{Outcome, Roster};
use ds_core::wire::{
    ClientId, DsError, DsErrorCode, DsRequest, DsRequestBody, DsResponseBody, GroupId,
};

use super::DsService;
use super::cache::Slot;
use super::fanout::{RemoteMembers, plan};
use super::groups::{ATTEMPTS, Written, now};
use super::metrics::record_log_entries;
use crate::storage::{AppendMessage, AppendQueue, AppendRejected, Backend};

/// Messages written per storage transaction at most.
const MAX_APPEND_BATCH: usize = 512;

impl DsService {
    /// Checks and stores one application message.
    pub(super) async fn send_message(
        &self,
        id: &GroupId,
        request: &DsRequest,
        requester: Option<&ClientId>,
    ) -> Result<DsResponseBody, DsError> {
        let inner = &self.inner;
        let local = inner.ctx.domain().as_str();
        let slot = inner.cache.slot(id);
        for _ in 0..ATTEMPTS {
            let cached = slot.read().await;
            let Some(entry) = cached.as_ref() else {
                drop(cached);
                self.load_into(&slot, id).await?;
                continue;
            };
            let outcome = entry.group.check_message(&inner.ctx, request)?;
            if outcome.state_changed {
                // The sender's first message after joining also updates the
                // state: take the exclusive path.
                drop(cached);
                return self
                    .on_group(id, true, |group| {
                        group.process(&inner.ctx, request, requester, now().unix_secs())
                    })
                    .await;
            }
            let digest = message_digest(request);
            if digest.as_ref().is_some_and(|d| entry.was_stored(d)) {
                // Stored already (a retry or a replay): answered as then.
                return Ok(outcome.response.clone());
            }
            let remote = entry.remote_members(local);
            let (epoch, revision) = (entry.group.epoch(), entry.revision);
            // The read lock is held until the append is stored: a commit by
            // this process waits for it, so only other processes can race.
            match self
                .append(id, epoch, &outcome, &remote, entry.group.roster())
                .await?
            {
                Written::Done(body) => {
                    if let Some(digest) = digest {
                        entry.remember_stored(epoch, digest);
                    }
                    return Ok(body);
                }
                Written::Deleted(body) => return Ok(body),
                Written::Conflict => {
                    drop(cached);
                    let mut cached = slot.write().await;
                    if cached.as_ref().is_some_and(|e| e.revision == revision) {
                        *cached = None;
                    }
                }
            }
        }
        Err(DsError::new(
            DsErrorCode::WrongEpoch,
            "the group kept changing while this message was processed; retry",
        ))
    }

    /// Fills an empty slot from storage (unless another request did).
    async fn load_into(&self, slot: &Slot, id: &GroupId) -> Result<(), DsError> {
        let mut cached = slot.write().await;
        if cached.is_none() {
            *cached = Some(self.load(id).await?);
        }
        Ok(())
    }

    /// Appends an application message without touching the group state.
    pub(super) async fn append(
        &self,
        id: &GroupId,
        epoch: u64,
        outcome: &Outcome,
        remote_before: &RemoteMembers,
        roster: &Roster,
    ) -> Result<Written, DsError> {
        let local = self.inner.ctx.domain().as_str();
        let mut plan = plan(outcome, id, local, remote_before);
        let Some(entry) = plan.entries.pop() else {
            return Ok(Written::Done(outcome.response.clone()));
        };
        let fans_out = !plan.outbox.is_empty();
        let append = AppendMessage {
            group_id: id.as_str().to_owned(),
            expected_epoch: epoch,
            sender: entry.sender.unwrap_or_default(),
            message: entry.message,
            outbox: plan.outbox,
        };
        let result = self.append_queue().append(append).await.map_err(|e| {
            tracing::error!(error = %e, "storing a message failed");
            DsError::new(
                DsErrorCode::InternalError,
                "the DS could not store the message; it had no effect",
            )
        })?;
        match result {
            Ok(_) => {
                // Only after the commit: push feeds re-read what is now stored.
                self.inner.notifier.wake_members(roster);
                if fans_out {
                    self.inner.fanout_wake.wake();
                }
                record_log_entries(1);
                Ok(Written::Done(outcome.response.clone()))
            }
            Err(AppendRejected::EpochConflict) => Ok(Written::Conflict),
            Err(AppendRejected::GroupNotFound) => Err(DsError::new(
                DsErrorCode::GroupNotFound,
                format!("{id} was deleted"),
            )),
        }
    }

    /// The append writers, started on first use (inside the runtime): one
    /// on SQLite, which admits one writer at a time anyway; a few on
    /// PostgreSQL, where transactions on different groups run in parallel.
    fn append_queue(&self) -> &AppendQueue {
        let store = &self.inner.store;
        self.inner.appends.get_or_init(|| {
            let writers = match store.backend() {
                Backend::Sqlite => 1,
                Backend::Postgres => 4,
            };
            AppendQueue::start(store.clone(), writers, MAX_APPEND_BATCH)
        })
    }
}

/// SHA-256 of the application message of a `send_message` request.
fn message_digest(request: &DsRequest) -> Option<[u8; 32]> {
    use sha2::{Digest as _, Sha256};
    match &request.body {
        DsRequestBody::SendMessage(send) => {
            Some(Sha256::digest(send.application_message.as_slice()).into())
        }
        _ => None,
    }
}
