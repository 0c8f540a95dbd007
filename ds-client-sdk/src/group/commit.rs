//! Commits, from staging to the owning DS's answer. A commit refused as
//! `WrongEpoch` lost a race with another member's commit: the client
//! catches up (syncs and applies what arrived), stages the change again on
//! the new epoch and retries, a few times. A commit whose answer was lost
//! stays pending; the log shows later whether it was accepted (merged
//! then, see `receive`) or not (dropped before the next commit).

use std::time::Duration;

use ds_core::wire::{
    AddRequest, Bytes, ClientId, DsErrorCode, DsRequest, DsRequestBody, DsResponseBody, GroupId,
    GroupUpdateRequest, List, MlsGroupUpdate, PartialGroupInfo, UserId,
};
use openmls::prelude::{CommitMessageBundle, KeyPackage, MlsGroup, MlsMessageOut, ProtocolVersion};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{Deserialize as _, Serialize as _};

use super::owner;
use super::pending::removals_due;
use crate::error::{Error, Result};
use crate::event::{Event, Origin};
use crate::inner::{Inner, client_of};
use crate::transport::Transport;

/// Syncs at most while catching up after one lost race.
const CATCH_UP_SYNCS: u32 = 12;
/// First pause between two of those syncs; doubles up to the next.
const CATCH_UP_PAUSE: Duration = Duration::from_millis(50);
/// Longest pause between two of those syncs.
const CATCH_UP_MAX_PAUSE: Duration = Duration::from_secs(1);

/// What a commit changes.
#[derive(Debug, Clone)]
pub enum Change {
    /// Add these key packages' clients (`ds_add_users`).
    Add(Vec<KeyPackage>),
    /// Add these key packages' clients, further devices of the committer's
    /// own user (`ds_add_clients`).
    AddClients(Vec<KeyPackage>),
    /// Remove every client of this user (`ds_remove_users`).
    Remove(UserId),
    /// Remove these other devices of the committer's own user
    /// (`ds_remove_clients`).
    RemoveDevices(Vec<ClientId>),
    /// Remove every other member; the DS then deletes the group
    /// (`ds_delete_group`).
    Delete,
    /// Refresh this client's leaf keys (`ds_update_client`); also commits
    /// the proposals stored in the epoch (self-removals, the DS's removals).
    Update,
    /// Commit the proposals stored in the epoch (with a refresh of this
    /// client's leaf, as `ds_update_client`) while a removal of another
    /// member is among them: nothing once another member committed them.
    /// The application gets [`Event::MembersRemoved`] for the removals,
    /// as it would for another member's commit of them.
    Pending,
}

impl Inner {
    /// Commits `change` in `gid`, retrying after lost races.
    pub async fn commit(&mut self, gid: &GroupId, change: &Change) -> Result<()> {
        let owner = owner(gid)?;
        for attempt in 0..self.tuning.commit_attempts.max(1) {
            self.settle_pending_commit(gid).await?;
            if matches!(change, Change::Pending)
                && !self.mls.get(gid.as_str()).is_some_and(removals_due)
            {
                return Ok(());
            }
            let epoch = self.group(gid)?.epoch().as_u64();
            let (request, commit) = self.stage(gid, change)?;
            self.mark_sent(gid, &commit);
            self.save()?;
            let answer = match self.transport.ds(&owner, &request).await {
                Ok(DsResponseBody::Ok) => Ok(()),
                Ok(other) => Err(Transport::unexpected(&owner, "commit", other)),
                Err(e) => Err(e),
            };
            match answer {
                Ok(()) => {
                    let group = self
                        .mls
                        .get_mut(gid.as_str())
                        .ok_or_else(|| Error::NotAMember(gid.clone()))?;
                    let removed = removed_by_pending_commit(group);
                    group
                        .merge_pending_commit(&self.provider)
                        .map_err(|e| Error::mls("merging the own commit", e))?;
                    if matches!(change, Change::Pending) && !removed.is_empty() {
                        let origin =
                            Origin::Group(self.groups.get(gid.as_str()).map_or(0, |r| r.last_seq));
                        self.queue_event(
                            origin,
                            &Event::MembersRemoved {
                                group: gid.clone(),
                                members: removed,
                            },
                        );
                    }
                    return self.save();
                }
                // Unknown outcome: the log will tell (see module doc).
                Err(e @ Error::Transport(_)) => return Err(e),
                Err(e) => {
                    self.drop_pending_commit(gid)?;
                    self.unmark_sent(gid, &commit);
                    self.save()?;
                    if e.code() != Some(DsErrorCode::WrongEpoch) {
                        return Err(e);
                    }
                    tracing::debug!(group = %gid, attempt, "commit lost a race; catching up");
                    self.catch_up(gid, epoch).await?;
                    // Members that keep committing would otherwise win every
                    // race against those still catching up.
                    tokio::time::sleep(self.retry_jitter(attempt)).await;
                }
            }
        }
        Err(Error::Contended(gid.clone()))
    }

    /// A random pause before retry `attempt` of a commit that lost a race:
    /// up to 20 ms, doubling with each attempt up to 320 ms.
    fn retry_jitter(&self, attempt: u32) -> Duration {
        use openmls_traits::random::OpenMlsRand as _;
        let ceiling = 20u64 << attempt.min(4);
        let random = self
            .provider
            .rand()
            .random_array::<8>()
            .map(u64::from_le_bytes)
            .unwrap_or(0);
        Duration::from_millis(random % (ceiling + 1))
    }

    /// After `WrongEpoch` at `epoch`: syncs until the group moved past it.
    /// A member of another domain than the owning DS's reads the winning
    /// commit from its home DS's replica, which the owning DS's fan-out
    /// fills a moment later, so one sync may not show it yet.
    pub async fn catch_up(&mut self, gid: &GroupId, epoch: u64) -> Result<()> {
        let mut pause = CATCH_UP_PAUSE;
        for _ in 0..CATCH_UP_SYNCS {
            self.sync().await?;
            match self.mls.get(gid.as_str()) {
                Some(group) if group.epoch().as_u64() <= epoch => {}
                _ => return Ok(()),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(CATCH_UP_MAX_PAUSE);
        }
        Ok(())
    }

    /// A commit still pending from an earlier call whose answer was lost:
    /// sync first (which merges it if the DS logged it), then drop it.
    pub async fn settle_pending_commit(&mut self, gid: &GroupId) -> Result<()> {
        if self.group(gid)?.pending_commit().is_none() {
            return Ok(());
        }
        self.sync().await?;
        if self.mls.contains_key(gid.as_str()) {
            self.drop_pending_commit(gid)?;
        }
        Ok(())
    }

    pub(crate) fn drop_pending_commit(&mut self, gid: &GroupId) -> Result<()> {
        if let Some(group) = self.mls.get_mut(gid.as_str())
            && group.pending_commit().is_some()
        {
            group
                .clear_pending_commit(self.provider.storage())
                .map_err(|e| Error::mls("dropping a pending commit", e))?;
        }
        Ok(())
    }

    /// Stages `change` in `gid`: the signed request and the commit's bytes.
    pub(crate) fn stage(&mut self, gid: &GroupId, change: &Change) -> Result<(DsRequest, Vec<u8>)> {
        let leaf_parameters = self.identity.leaf_parameters()?;
        let group = self
            .mls
            .get_mut(gid.as_str())
            .ok_or_else(|| Error::NotAMember(gid.clone()))?;
        let removed: Vec<_> = match change {
            Change::Remove(user) => {
                let leaves: Vec<_> = group
                    .members()
                    .filter(|m| client_of(&m.credential).is_some_and(|c| c.user() == user))
                    .map(|m| m.index)
                    .collect();
                if leaves.is_empty() {
                    return Err(Error::Membership(format!(
                        "{user} is not a member of {gid}"
                    )));
                }
                leaves
            }
            Change::RemoveDevices(devices) => {
                let leaves: Vec<_> = group
                    .members()
                    .filter(|m| client_of(&m.credential).is_some_and(|c| devices.contains(&c)))
                    .map(|m| m.index)
                    .collect();
                if leaves.len() != devices.len() {
                    return Err(Error::Membership(format!(
                        "not every one of {devices:?} is a member of {gid}"
                    )));
                }
                leaves
            }
            Change::Delete => {
                let own = group.own_leaf_index();
                group
                    .members()
                    .map(|m| m.index)
                    .filter(|index| *index != own)
                    .collect()
            }
            _ => Vec::new(),
        };
        let builder = match change {
            Change::Add(key_packages) | Change::AddClients(key_packages) => {
                group.commit_builder().propose_adds(key_packages.clone())
            }
            Change::Remove(_) | Change::RemoveDevices(_) | Change::Delete => group
                .commit_builder()
                .propose_removals(removed)
                .leaf_node_parameters(leaf_parameters),
            Change::Update | Change::Pending => group
                .commit_builder()
                .force_self_update(true)
                .leaf_node_parameters(leaf_parameters),
        };
        let provider = &self.provider;
        let bundle = builder
            .load_psks(provider.storage())
            .map_err(|e| Error::mls("commit PSKs", e))?
            .create_group_info(true)
            .build(
                provider.rand(),
                provider.crypto(),
                &self.identity.signer,
                |_| true,
            )
            .map_err(|e| Error::mls("building the commit", e))?
            .stage_commit(provider)
            .map_err(|e| Error::mls("staging the commit", e))?;
        let (update, welcome) = pack(bundle)?;
        let commit = update.commit.as_slice().to_vec();
        let body = match change {
            Change::Add(_) | Change::AddClients(_) => {
                let welcomes = welcome
                    .into_iter()
                    .map(Bytes::new)
                    .collect::<Result<Vec<_>, _>>();
                let add = AddRequest {
                    group_update: update,
                    welcomes: welcomes
                        .and_then(List::new)
                        .map_err(|e| Error::mls("Welcomes", e))?,
                };
                if matches!(change, Change::AddClients(_)) {
                    DsRequestBody::AddClients(add)
                } else {
                    DsRequestBody::AddUsers(add)
                }
            }
            Change::Remove(_) => DsRequestBody::RemoveUsers(GroupUpdateRequest {
                group_update: update,
            }),
            Change::RemoveDevices(_) => DsRequestBody::RemoveClients(GroupUpdateRequest {
                group_update: update,
            }),
            Change::Delete => DsRequestBody::DeleteGroup(GroupUpdateRequest {
                group_update: update,
            }),
            Change::Update | Change::Pending => DsRequestBody::UpdateClient(GroupUpdateRequest {
                group_update: update,
            }),
        };
        let request = match self.member_request(gid, body) {
            Ok(request) => request,
            Err(e) => {
                self.drop_pending_commit(gid)?;
                return Err(e);
            }
        };
        Ok((request, commit))
    }
}

/// The clients the pending own commit of `group` removes.
fn removed_by_pending_commit(group: &MlsGroup) -> Vec<ClientId> {
    let Some(staged) = group.pending_commit() else {
        return Vec::new();
    };
    staged
        .remove_proposals()
        .filter_map(|p| {
            group
                .member(p.remove_proposal().removed())
                .and_then(client_of)
        })
        .collect()
}

/// A staged commit as the `MLSGroupUpdate` the DS wants (the commit and
/// the parts of the new GroupInfo only the committer can make, spec §6),
/// plus the Welcome for new members.
pub fn pack(bundle: CommitMessageBundle) -> Result<(MlsGroupUpdate, Option<Vec<u8>>)> {
    let (commit, welcome, group_info) = bundle.into_contents();
    let group_info = group_info.ok_or_else(|| Error::mls("commit", "no GroupInfo"))?;
    let extensions = group_info
        .extensions()
        .tls_serialize_detached()
        .map_err(|e| Error::mls("GroupInfo extensions", e))?;
    let signature = group_info
        .signature()
        .tls_serialize_detached()
        .and_then(tls_codec::VLBytes::tls_deserialize_exact)
        .map_err(|e| Error::mls("GroupInfo signature", e))?;
    let welcome = welcome
        .map(|w| {
            MlsMessageOut::from_welcome(w, ProtocolVersion::default()).tls_serialize_detached()
        })
        .transpose()
        .map_err(|e| Error::mls("Welcome", e))?;
    let commit = commit
        .tls_serialize_detached()
        .map_err(|e| Error::mls("commit", e))?;
    Ok((
        MlsGroupUpdate {
            commit: Bytes::new(commit).map_err(|e| Error::mls("commit", e))?,
            partial_group_info: PartialGroupInfo {
                group_info_extensions: Bytes::new(extensions)
                    .map_err(|e| Error::mls("GroupInfo extensions", e))?,
                signature: Bytes::new(signature.as_slice().to_vec())
                    .map_err(|e| Error::mls("GroupInfo signature", e))?,
            },
        },
        welcome,
    ))
}
