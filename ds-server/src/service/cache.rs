//! Hot group states kept in memory, so a message does not pay for
//! deserializing a large tree. The cache is optimistic: every write to
//! storage is conditional on the epoch and revision the cached state had, so
//! a state another process changed is detected at write time, dropped and
//! reloaded.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use ds_core::group::DsGroup;
use ds_core::wire::GroupId;

use super::fanout::{RemoteMembers, remote_members};

/// A group as last loaded or written by this process.
#[derive(Debug)]
pub struct CachedGroup {
    /// The engine's state.
    pub group: DsGroup,
    /// The storage revision `group` corresponds to.
    pub revision: u64,
    /// Members on other domains, for the epoch it was computed in: the
    /// roster only changes with the epoch, so a message does not pay
    /// O(members). Behind its own lock because messages share the state.
    remote: Mutex<Option<(u64, Arc<RemoteMembers>)>>,
    /// Digests of the application messages this process stored in the
    /// current epoch, so that a repeated send (a client's retry after a
    /// lost answer, or a replay) is answered without being logged twice.
    stored: Mutex<StoredMessages>,
}

/// How many digests of stored messages a group remembers per epoch.
const REMEMBERED_MESSAGES: usize = 4096;

/// The last [`REMEMBERED_MESSAGES`] message digests of one epoch.
#[derive(Debug, Default)]
struct StoredMessages {
    epoch: u64,
    digests: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
}

impl CachedGroup {
    /// A freshly loaded or created group.
    pub fn new(group: DsGroup, revision: u64) -> Self {
        Self {
            group,
            revision,
            remote: Mutex::new(None),
            stored: Mutex::new(StoredMessages::default()),
        }
    }

    /// Whether this process stored a message with `digest` in the current
    /// epoch (among the last few thousand).
    pub(crate) fn was_stored(&self, digest: &[u8; 32]) -> bool {
        let stored = lock(&self.stored);
        stored.epoch == self.group.epoch() && stored.digests.contains(digest)
    }

    /// Remembers that a message with `digest` was stored in `epoch`.
    pub(crate) fn remember_stored(&self, epoch: u64, digest: [u8; 32]) {
        let mut stored = lock(&self.stored);
        if stored.epoch != epoch {
            *stored = StoredMessages {
                epoch,
                ..StoredMessages::default()
            };
        }
        if stored.digests.insert(digest) {
            stored.order.push_back(digest);
            if stored.order.len() > REMEMBERED_MESSAGES
                && let Some(oldest) = stored.order.pop_front()
            {
                stored.digests.remove(&oldest);
            }
        }
    }

    /// The group's members on other domains than `local`, in the current epoch.
    pub(crate) fn remote_members(&self, local: &str) -> Arc<RemoteMembers> {
        let epoch = self.group.epoch();
        let mut remote = lock(&self.remote);
        match &*remote {
            Some((cached, members)) if *cached == epoch => Arc::clone(members),
            _ => {
                let members = Arc::new(remote_members(&self.group, local));
                *remote = Some((epoch, Arc::clone(&members)));
                members
            }
        }
    }
}

/// Locks `mutex`; its values are replaced or updated in one step, so a
/// panic elsewhere cannot leave them torn.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// One slot per group. Application messages share it (read lock: they are
/// checked against the state and appended without changing it); anything
/// that changes the state holds it exclusively, so this process's changes to
/// a group are serialized (other processes are ordered by the database).
pub(crate) type Slot = Arc<tokio::sync::RwLock<Option<CachedGroup>>>;

/// The groups this process has touched.
#[derive(Debug, Default)]
pub struct GroupCache {
    slots: Mutex<HashMap<GroupId, Slot>>,
}

impl GroupCache {
    /// The slot of `group_id`, created empty if needed.
    pub(crate) fn slot(&self, group_id: &GroupId) -> Slot {
        let mut slots = match self.slots.lock() {
            Ok(guard) => guard,
            // A panic while holding this lock cannot leave the map inconsistent.
            Err(poisoned) => poisoned.into_inner(),
        };
        slots.entry(group_id.clone()).or_default().clone()
    }

    /// Number of groups with a slot (for metrics).
    pub fn len(&self) -> usize {
        self.slots.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether no group is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
