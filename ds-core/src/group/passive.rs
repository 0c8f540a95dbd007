//! The group as a passive member sees it: openmls's [`PublicGroup`] over an
//! in-memory store, fed only with PublicMessages.
//!
//! This is the MLS half of the engine, without any DS policy: it checks that a
//! handshake message belongs to this group and epoch, validates it exactly as
//! a member would, stores proposals and merges commits. [`super::DsGroup`]
//! adds the draft's operation rules, the roster, and what joiners need. The
//! MLS working group's passive-client vectors replay through this type.

use openmls::group::PublicGroup;
use openmls::group::{GroupId as MlsGroupId, InterimTranscriptHash};
use openmls::messages::group_info::{GroupInfo, VerifiableGroupInfo};
use openmls::prelude::{
    ConfirmationTag, ContentType, GroupContext, ProcessedMessageContent, ProposalStore,
    PublicMessageIn, QueuedProposal, RatchetTreeIn, StagedCommit,
};
use openmls::storage::PublicStorageProvider;
use openmls::treesync::TreeSync;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::public_storage::PublicStorageProvider as _;

use super::mls::public_message;
use super::storage::{BlobStore, PublicGroupBlobs};
use crate::wire::{DsError, DsErrorCode};

fn internal(e: impl std::fmt::Display) -> DsError {
    DsError::new(DsErrorCode::InternalError, e.to_string())
}

/// What an accepted handshake message was.
#[derive(Debug)]
pub enum Handshake {
    /// A proposal, now stored for the rest of the epoch.
    Proposal,
    /// A commit, now merged.
    Commit,
}

/// openmls's public group state plus the store that persists it.
#[derive(Debug)]
pub struct PassiveGroup {
    public: PublicGroup,
    store: BlobStore,
}

impl PassiveGroup {
    /// Starts following a group from its ratchet tree and signed GroupInfo
    /// (RFC 9420 §12.4.3.1 checks: tree validity, signature, tree hash).
    pub fn from_external(
        crypto: &RustCrypto,
        tree: RatchetTreeIn,
        group_info: VerifiableGroupInfo,
    ) -> Result<(Self, GroupInfo), DsError> {
        let store = BlobStore::default();
        let (public, verified) =
            PublicGroup::from_external(crypto, &store, tree, group_info, ProposalStore::new())
                .map_err(|e| {
                    // openmls does not export this error type by name; its
                    // variant names (pinned openmls version) tell leaf from GroupInfo faults.
                    let variant = format!("{e:?}");
                    let code = if variant.starts_with("TreeSyncError")
                        || variant.starts_with("LeafNodeValidation")
                    {
                        DsErrorCode::InvalidLeafNode
                    } else {
                        DsErrorCode::InvalidGroupInfo
                    };
                    DsError::new(code, format!("group does not validate: {e}"))
                })?;
        Ok((Self { public, store }, verified))
    }

    /// Copies a group's public state (tree, context, transcript hash,
    /// confirmation tag; no proposals) out of another openmls store, e.g. a
    /// member's, for importing a group whose GroupInfo can no longer be
    /// checked from scratch.
    pub fn import<S: PublicStorageProvider>(
        storage: &S,
        group_id: &MlsGroupId,
    ) -> Result<Self, DsError> {
        let missing = |what: &str| DsError::new(DsErrorCode::CorruptState, format!("no {what}"));
        let tree: TreeSync = storage
            .tree(group_id)
            .map_err(|e| internal(format!("{e:?}")))?
            .ok_or_else(|| missing("tree"))?;
        let context: GroupContext = storage
            .group_context(group_id)
            .map_err(|e| internal(format!("{e:?}")))?
            .ok_or_else(|| missing("group context"))?;
        let hash: InterimTranscriptHash = storage
            .interim_transcript_hash(group_id)
            .map_err(|e| internal(format!("{e:?}")))?
            .ok_or_else(|| missing("interim transcript hash"))?;
        let tag: ConfirmationTag = storage
            .confirmation_tag(group_id)
            .map_err(|e| internal(format!("{e:?}")))?
            .ok_or_else(|| missing("confirmation tag"))?;
        let store = BlobStore::default();
        store.write_tree(group_id, &tree).map_err(internal)?;
        store.write_context(group_id, &context).map_err(internal)?;
        store
            .write_interim_transcript_hash(group_id, &hash)
            .map_err(internal)?;
        store
            .write_confirmation_tag(group_id, &tag)
            .map_err(internal)?;
        Self::from_blobs(store.blobs())
    }

    /// Restores from the blobs of [`PassiveGroup::blobs`].
    pub(crate) fn from_blobs(blobs: PublicGroupBlobs) -> Result<Self, DsError> {
        let store = BlobStore::from_blobs(blobs);
        let corrupt = |d: String| DsError::new(DsErrorCode::CorruptState, d);
        let public = PublicGroup::load(&store, &MlsGroupId::from_slice(&[]))
            .map_err(|e| corrupt(format!("stored group state: {e}")))?
            .ok_or_else(|| corrupt("stored group state is incomplete".into()))?;
        Ok(Self { public, store })
    }

    /// Runs `f` on the serialized state without copying it.
    pub(crate) fn with_blobs<R>(&self, f: impl FnOnce(&PublicGroupBlobs) -> R) -> R {
        self.store.with_blobs(f)
    }

    /// Serializes the state (postcard; see `state.rs` for the versioned envelope).
    pub fn to_bytes(&self) -> Result<Vec<u8>, DsError> {
        self.with_blobs(postcard::to_stdvec).map_err(internal)
    }

    /// Restores a state written by [`PassiveGroup::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DsError> {
        let blobs = postcard::from_bytes(bytes)
            .map_err(|e| DsError::new(DsErrorCode::CorruptState, e.to_string()))?;
        Self::from_blobs(blobs)
    }

    /// openmls's view (read-only).
    pub fn public(&self) -> &PublicGroup {
        &self.public
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.public.group_context().epoch().as_u64()
    }

    /// Parses `bytes` as a PublicMessage of this group at the current epoch
    /// with content type `expected` ("commit" or "proposal" in errors).
    pub(crate) fn framed(
        &self,
        bytes: &[u8],
        expected: ContentType,
        what: &str,
    ) -> Result<PublicMessageIn, DsError> {
        let message = public_message(bytes, what)?;
        self.check_frame(&message, expected, what)?;
        Ok(message)
    }

    /// Checks group, epoch and content type of a parsed PublicMessage.
    fn check_frame(
        &self,
        message: &PublicMessageIn,
        expected: ContentType,
        what: &str,
    ) -> Result<(), DsError> {
        if message.group_id() != self.public.group_id() {
            return Err(DsError::new(
                DsErrorCode::WrongGroup,
                format!("the {what} is for another group"),
            ));
        }
        let epoch = message.epoch().as_u64();
        if epoch != self.epoch() {
            return Err(DsError::new(
                DsErrorCode::WrongEpoch,
                format!(
                    "{what} is for epoch {epoch}, the group is at {}",
                    self.epoch()
                ),
            ));
        }
        if message.content_type() != expected {
            return Err(DsError::new(
                DsErrorCode::WrongContentType,
                format!("the message must be a {what}"),
            ));
        }
        Ok(())
    }

    /// Validates a commit like a member; changes nothing.
    pub(crate) fn stage_commit(
        &self,
        crypto: &RustCrypto,
        message: PublicMessageIn,
    ) -> Result<StagedCommit, DsError> {
        let processed = self.public.process_message(crypto, message).map_err(|e| {
            DsError::new(
                DsErrorCode::InvalidCommit,
                format!("the commit does not validate: {e}"),
            )
        })?;
        match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => Ok(*staged),
            _ => Err(DsError::new(
                DsErrorCode::WrongContentType,
                "the message must be a commit",
            )),
        }
    }

    /// Validates a proposal like a member; changes nothing.
    pub(crate) fn validate_proposal(
        &self,
        crypto: &RustCrypto,
        message: PublicMessageIn,
    ) -> Result<QueuedProposal, DsError> {
        let processed = self.public.process_message(crypto, message).map_err(|e| {
            DsError::new(
                DsErrorCode::InvalidProposal,
                format!("the proposal does not validate: {e}"),
            )
        })?;
        match processed.into_content() {
            ProcessedMessageContent::ProposalMessage(q) => Ok(*q),
            _ => Err(DsError::new(
                DsErrorCode::WrongContentType,
                "the message must be a proposal",
            )),
        }
    }

    /// Keeps a validated proposal until the epoch ends.
    pub(crate) fn store_proposal(&mut self, proposal: QueuedProposal) -> Result<(), DsError> {
        self.public
            .add_proposal(&self.store, proposal)
            .map_err(internal)
    }

    /// Moves to the epoch a validated commit creates; drops stored proposals.
    pub(crate) fn merge(&mut self, staged: StagedCommit) -> Result<(), DsError> {
        self.public
            .merge_commit(&self.store, staged)
            .map_err(|e| internal(format!("merge: {e}")))
    }

    /// The proposals stored in this epoch.
    pub(crate) fn queued_proposals(&self) -> Result<Vec<QueuedProposal>, DsError> {
        Ok(self
            .public
            .queued_proposals(&self.store)
            .map_err(internal)?
            .into_iter()
            .map(|(_, q)| q)
            .collect())
    }

    /// Applies one handshake message as a passive member: validates it, then
    /// stores a proposal or merges a commit. On error nothing changed.
    pub fn apply_handshake(
        &mut self,
        crypto: &RustCrypto,
        bytes: &[u8],
    ) -> Result<Handshake, DsError> {
        let message = public_message(bytes, "handshake message")?;
        match message.content_type() {
            ContentType::Commit => {
                self.check_frame(&message, ContentType::Commit, "commit")?;
                let staged = self.stage_commit(crypto, message)?;
                self.merge(staged)?;
                Ok(Handshake::Commit)
            }
            ContentType::Proposal => {
                self.check_frame(&message, ContentType::Proposal, "proposal")?;
                let proposal = self.validate_proposal(crypto, message)?;
                self.store_proposal(proposal)?;
                Ok(Handshake::Proposal)
            }
            ContentType::Application => Err(DsError::new(
                DsErrorCode::WrongContentType,
                "application messages are not handshake messages",
            )),
        }
    }
}
