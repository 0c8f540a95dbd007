//! Saving and restoring a group as bytes, with a format version.
//!
//! Layout: `uint16 format` (big endian) then a postcard-encoded
//! [`StoredGroup`]. The format number changes whenever the layout does; a
//! state of an unknown format is refused (`CorruptState`), never guessed at.

use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use super::DsGroup;
use super::passive::PassiveGroup;
use super::roster::Roster;
use super::storage::PublicGroupBlobs;
use crate::wire::{DsError, DsErrorCode, GroupId, GroupKind};

/// The state layout this build writes and reads.
pub const STATE_FORMAT: u16 = 1;

/// A client added by Welcome that has not been seen active since.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct PendingJoin {
    pub client: String,
    pub epoch: u64,
    pub leaf: u32,
    #[serde(with = "serde_bytes")]
    pub key_package_ref: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub signature_key: Vec<u8>,
    pub added_at: u64,
}

/// The ratchet tree of an epoch in which clients were added by Welcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct EpochTree {
    pub epoch: u64,
    #[serde(with = "serde_bytes")]
    pub tree: Vec<u8>,
}

/// What the engine keeps besides openmls's public group state.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct GroupMeta {
    pub connection: bool,
    /// The current epoch's signed GroupInfo, as an MLSMessage.
    #[serde(with = "serde_bytes")]
    pub group_info: Vec<u8>,
    pub pending_joins: Vec<PendingJoin>,
    pub epoch_trees: Vec<EpochTree>,
    /// MLSMessages of the proposals stored in the current epoch.
    pub stored_proposals: Vec<ByteBuf>,
    /// Clients the DS wants removed; re-proposed each epoch until committed.
    pub ds_removals: Vec<String>,
}

impl GroupMeta {
    pub(crate) fn kind(&self) -> GroupKind {
        if self.connection {
            GroupKind::Connection
        } else {
            GroupKind::Regular
        }
    }
}

#[derive(Deserialize)]
struct StoredGroup {
    public: PublicGroupBlobs,
    meta: GroupMeta,
}

/// The same layout as [`StoredGroup`], borrowed, so saving copies nothing.
#[derive(Serialize)]
struct StoredGroupRef<'a> {
    public: &'a PublicGroupBlobs,
    meta: &'a GroupMeta,
}

fn corrupt(detail: impl std::fmt::Display) -> DsError {
    DsError::new(
        DsErrorCode::CorruptState,
        format!("stored group state: {detail}"),
    )
}

impl DsGroup {
    /// Serializes the whole group state.
    pub fn to_bytes(&self) -> Result<Vec<u8>, DsError> {
        self.group
            .with_blobs(|public| {
                let stored = StoredGroupRef {
                    public,
                    meta: &self.meta,
                };
                postcard::to_extend(&stored, STATE_FORMAT.to_be_bytes().to_vec())
            })
            .map_err(corrupt)
    }

    /// Restores a group saved by [`DsGroup::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DsError> {
        let (format, rest) = bytes
            .split_first_chunk::<2>()
            .ok_or_else(|| corrupt("too short"))?;
        let format = u16::from_be_bytes(*format);
        if format != STATE_FORMAT {
            return Err(corrupt(format!("unknown format {format}")));
        }
        let stored: StoredGroup = postcard::from_bytes(rest).map_err(corrupt)?;
        let group = PassiveGroup::from_blobs(stored.public)?;
        let roster = Roster::of(group.public())?;
        let id = GroupId::from_bytes(group.public().group_id().as_slice()).map_err(corrupt)?;
        Ok(Self {
            id,
            group,
            roster,
            meta: stored.meta,
        })
    }
}
