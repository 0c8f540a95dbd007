//! A [`PublicStorageProvider`] over in-memory blobs, one group per store.
//!
//! openmls persists a `PublicGroup` through this trait: tree, context,
//! interim transcript hash, confirmation tag and queued proposals. We keep
//! those as postcard-encoded blobs so the whole group state can be saved as
//! bytes (by the server, in the same transaction as the commit) and restored
//! with `PublicGroup::load`.

use std::sync::{Mutex, MutexGuard};

use openmls_traits::public_storage::PublicStorageProvider;
use openmls_traits::storage::{CURRENT_VERSION, traits};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// Why a blob could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("group state encoding: {0}")]
pub struct BlobError(#[from] postcard::Error);

/// The serialized pieces of one `PublicGroup`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicGroupBlobs {
    #[serde(with = "serde_bytes")]
    pub(crate) tree: Option<Vec<u8>>,
    #[serde(with = "serde_bytes")]
    pub(crate) context: Option<Vec<u8>>,
    #[serde(with = "serde_bytes")]
    pub(crate) interim_transcript_hash: Option<Vec<u8>>,
    #[serde(with = "serde_bytes")]
    pub(crate) confirmation_tag: Option<Vec<u8>>,
    /// Queued proposals keyed by their encoded reference, in arrival order.
    pub(crate) proposals: Vec<(ByteBuf, ByteBuf)>,
}

/// Storage for exactly one group; the group id keys are ignored. A mutex
/// rather than a `RefCell` so a group state can be shared between threads
/// (the server checks many messages against one state at once); it is
/// never contended in practice: only commits write.
#[derive(Debug, Default)]
pub struct BlobStore {
    blobs: Mutex<PublicGroupBlobs>,
}

impl BlobStore {
    /// A store holding `blobs`.
    pub fn from_blobs(blobs: PublicGroupBlobs) -> Self {
        Self {
            blobs: Mutex::new(blobs),
        }
    }

    /// The blobs; a panic while they were held cannot leave them torn
    /// (every write replaces a whole field), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, PublicGroupBlobs> {
        match self.blobs.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A copy of the current blobs.
    pub fn blobs(&self) -> PublicGroupBlobs {
        self.lock().clone()
    }

    /// Runs `f` on the current blobs without copying them.
    pub fn with_blobs<R>(&self, f: impl FnOnce(&PublicGroupBlobs) -> R) -> R {
        f(&self.lock())
    }
}

fn enc<T: Serialize>(value: &T) -> Result<Vec<u8>, BlobError> {
    Ok(postcard::to_stdvec(value)?)
}

fn dec<T: serde::de::DeserializeOwned>(bytes: &Option<Vec<u8>>) -> Result<Option<T>, BlobError> {
    bytes
        .as_deref()
        .map(postcard::from_bytes)
        .transpose()
        .map_err(BlobError::from)
}

impl PublicStorageProvider<CURRENT_VERSION> for BlobStore {
    type PublicError = BlobError;

    fn write_tree<G: traits::GroupId<CURRENT_VERSION>, T: traits::TreeSync<CURRENT_VERSION>>(
        &self,
        _group_id: &G,
        tree: &T,
    ) -> Result<(), BlobError> {
        self.lock().tree = Some(enc(tree)?);
        Ok(())
    }

    fn write_interim_transcript_hash<
        G: traits::GroupId<CURRENT_VERSION>,
        H: traits::InterimTranscriptHash<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
        hash: &H,
    ) -> Result<(), BlobError> {
        self.lock().interim_transcript_hash = Some(enc(hash)?);
        Ok(())
    }

    fn write_context<
        G: traits::GroupId<CURRENT_VERSION>,
        C: traits::GroupContext<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
        context: &C,
    ) -> Result<(), BlobError> {
        self.lock().context = Some(enc(context)?);
        Ok(())
    }

    fn write_confirmation_tag<
        G: traits::GroupId<CURRENT_VERSION>,
        C: traits::ConfirmationTag<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
        tag: &C,
    ) -> Result<(), BlobError> {
        self.lock().confirmation_tag = Some(enc(tag)?);
        Ok(())
    }

    fn queue_proposal<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
        P: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
        proposal_ref: &R,
        proposal: &P,
    ) -> Result<(), BlobError> {
        let key = ByteBuf::from(enc(proposal_ref)?);
        let value = ByteBuf::from(enc(proposal)?);
        let mut blobs = self.lock();
        blobs.proposals.retain(|(k, _)| *k != key);
        blobs.proposals.push((key, value));
        Ok(())
    }

    fn queued_proposals<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
        P: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
    ) -> Result<Vec<(R, P)>, BlobError> {
        self.lock()
            .proposals
            .iter()
            .map(|(k, v)| Ok((postcard::from_bytes(k)?, postcard::from_bytes(v)?)))
            .collect()
    }

    fn tree<G: traits::GroupId<CURRENT_VERSION>, T: traits::TreeSync<CURRENT_VERSION>>(
        &self,
        _group_id: &G,
    ) -> Result<Option<T>, BlobError> {
        dec(&self.lock().tree)
    }

    fn group_context<
        G: traits::GroupId<CURRENT_VERSION>,
        C: traits::GroupContext<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
    ) -> Result<Option<C>, BlobError> {
        dec(&self.lock().context)
    }

    fn interim_transcript_hash<
        G: traits::GroupId<CURRENT_VERSION>,
        H: traits::InterimTranscriptHash<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
    ) -> Result<Option<H>, BlobError> {
        dec(&self.lock().interim_transcript_hash)
    }

    fn confirmation_tag<
        G: traits::GroupId<CURRENT_VERSION>,
        C: traits::ConfirmationTag<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
    ) -> Result<Option<C>, BlobError> {
        dec(&self.lock().confirmation_tag)
    }

    fn delete_tree<G: traits::GroupId<CURRENT_VERSION>>(&self, _: &G) -> Result<(), BlobError> {
        self.lock().tree = None;
        Ok(())
    }

    fn delete_confirmation_tag<G: traits::GroupId<CURRENT_VERSION>>(
        &self,
        _: &G,
    ) -> Result<(), BlobError> {
        self.lock().confirmation_tag = None;
        Ok(())
    }

    fn delete_context<G: traits::GroupId<CURRENT_VERSION>>(&self, _: &G) -> Result<(), BlobError> {
        self.lock().context = None;
        Ok(())
    }

    fn delete_interim_transcript_hash<G: traits::GroupId<CURRENT_VERSION>>(
        &self,
        _: &G,
    ) -> Result<(), BlobError> {
        self.lock().interim_transcript_hash = None;
        Ok(())
    }

    fn remove_proposal<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
        proposal_ref: &R,
    ) -> Result<(), BlobError> {
        let key = enc(proposal_ref)?;
        self.lock()
            .proposals
            .retain(|(k, _)| k.as_slice() != key.as_slice());
        Ok(())
    }

    fn clear_proposal_queue<
        G: traits::GroupId<CURRENT_VERSION>,
        R: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        _group_id: &G,
    ) -> Result<(), BlobError> {
        self.lock().proposals.clear();
        Ok(())
    }
}
