//! Committing removals nobody else commits: a member's self-removal
//! (`ds_self_remove_client`) and the DS's Remove proposals (DS-induced
//! removal, sender = external sender) only take effect in a commit. A
//! client that stores such a proposal, of another client than itself,
//! schedules a commit of the pending proposals after a small random delay
//! (so the members do not all race); the [`run`] task makes it. A commit
//! lost to another member's (which committed the proposals first) is
//! dropped: after catching up nothing is due any more.

use std::sync::Arc;
use std::time::Duration;

use ds_core::wire::GroupId;
use openmls::prelude::{MlsGroup, Proposal, Sender};
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::random::OpenMlsRand as _;
use tokio::sync::mpsc::UnboundedReceiver;

use super::commit::Change;
use crate::client::Shared;
use crate::inner::Inner;

/// Longest random delay before committing pending removals, in ms.
const MAX_DELAY_MS: u16 = 300;

/// A commit of pending removals to make: the group and when.
pub type Due = (GroupId, Duration);

/// Whether `group` holds a pending removal of another member and none of
/// this client (which it could not commit).
pub fn removals_due(group: &MlsGroup) -> bool {
    let own = group.own_leaf_index();
    let mut others = false;
    for queued in group.pending_proposals() {
        let removed = match queued.proposal() {
            Proposal::Remove(remove) => Some(remove.removed()),
            Proposal::SelfRemove => match queued.sender() {
                Sender::Member(index) => Some(*index),
                _ => None,
            },
            _ => None,
        };
        match removed {
            Some(index) if index == own => return false,
            Some(_) => others = true,
            None => {}
        }
    }
    others
}

impl Inner {
    /// Schedules a commit of `gid`'s pending proposals if a removal of
    /// another member is among them.
    pub fn schedule_pending_commit(&self, gid: &GroupId) {
        let (Some(due), Some(group)) = (&self.due, self.mls.get(gid.as_str())) else {
            return;
        };
        if !removals_due(group) {
            return;
        }
        let random = self.provider.rand().random_array::<2>().unwrap_or([0, 0]);
        let delay = u16::from_le_bytes(random) % (MAX_DELAY_MS + 1);
        // The receiver is gone only when the client is.
        let _ = due.send((gid.clone(), Duration::from_millis(delay.into())));
    }

    /// Commits `gid`'s pending removals, unless they were committed (or
    /// the client left the group) meanwhile.
    pub async fn commit_pending(&mut self, gid: &GroupId) -> crate::Result<()> {
        if !self.mls.get(gid.as_str()).is_some_and(removals_due) {
            return Ok(());
        }
        self.commit(gid, &Change::Pending).await
    }
}

/// Makes the commits scheduled by [`Inner::schedule_pending_commit`], one
/// after the other, for as long as the client lives.
pub async fn run(shared: Arc<Shared>, mut due: UnboundedReceiver<Due>) {
    while let Some((gid, delay)) = due.recv().await {
        tokio::time::sleep(delay).await;
        let mut inner = shared.inner.lock().await;
        let queued = inner.pending.len();
        if let Err(e) = inner.commit_pending(&gid).await {
            tracing::warn!(group = %gid, error = %e, "committing pending removals failed");
        }
        let woke = inner.pending.len() != queued;
        drop(inner);
        if woke {
            shared.wake.notify_one();
        }
    }
}
