//! Proposals kept by reference within an epoch: a member's self-removal and
//! the DS's own Remove proposals (the DS acts as the group's external sender).

use openmls::prelude::{
    ContentType, ExternalProposal, LeafNodeIndex, Proposal, QueuedProposal, Sender,
    SenderExtensionIndex,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::signatures::Signer;
use tls_codec::Serialize;

use super::DsGroup;
use super::auth::verify_member_signature;
use super::context::EngineContext;
use super::effects::{Effect, Outcome};
use crate::wire::{
    ClientId, DsError, DsErrorCode, DsRequest, DsResponseBody, SelfRemoveClientRequest,
};

fn internal(e: impl std::fmt::Display) -> DsError {
    DsError::new(DsErrorCode::InternalError, e.to_string())
}

impl DsGroup {
    /// Validates a PublicMessage proposal of the current epoch like a member would.
    fn validate_proposal(
        &self,
        ctx: &EngineContext,
        bytes: &[u8],
    ) -> Result<QueuedProposal, DsError> {
        let message = self
            .group
            .framed(bytes, ContentType::Proposal, "proposal")?;
        self.group.validate_proposal(ctx.crypto(), message)
    }

    /// Stores a validated proposal for the rest of the epoch.
    fn store_proposal(&mut self, proposal: QueuedProposal, bytes: &[u8]) -> Result<(), DsError> {
        self.group.store_proposal(proposal)?;
        self.meta.stored_proposals.push(bytes.to_vec().into());
        Ok(())
    }

    /// Whether a Remove of `leaf` is already stored in this epoch.
    fn removal_stored(&self, leaf: LeafNodeIndex) -> Result<bool, DsError> {
        Ok(self
            .group
            .queued_proposals()?
            .iter()
            .any(|q| matches!(q.proposal(), Proposal::Remove(r) if r.removed() == leaf)))
    }

    /// `self_remove_client`: one Remove of the sender's own leaf, kept until committed.
    pub(crate) fn self_remove(
        &mut self,
        ctx: &EngineContext,
        request: &DsRequest,
        body: &SelfRemoveClientRequest,
    ) -> Result<Outcome, DsError> {
        let signer = verify_member_signature(ctx, self.group.public(), request)?;
        let bytes = body.proposal.as_slice();
        let proposal = self.validate_proposal(ctx, bytes)?;
        match proposal.sender() {
            Sender::Member(leaf) if *leaf == signer => {}
            Sender::Member(_) => {
                return Err(DsError::new(
                    DsErrorCode::SenderMismatch,
                    "the proposal's sender is not the request's signer",
                ));
            }
            _ => {
                return Err(DsError::new(
                    DsErrorCode::NotSelfRemove,
                    "a self-removal must be sent by the member itself",
                ));
            }
        }
        match proposal.proposal() {
            Proposal::Remove(r) if r.removed() == signer => {}
            _ => {
                return Err(DsError::new(
                    DsErrorCode::NotSelfRemove,
                    "SelfRemoveClient must be one Remove proposal of the sender's own leaf",
                ));
            }
        }
        let sender = self
            .roster
            .client_at(signer)
            .cloned()
            .ok_or_else(|| DsError::new(DsErrorCode::NotAMember, "sender is not a member"))?;
        if self.removal_stored(signer)? {
            return Ok(Outcome::read_only(DsResponseBody::Ok));
        }
        self.store_proposal(proposal, bytes)?;
        self.mark_active(&sender);
        Ok(Outcome {
            response: DsResponseBody::Ok,
            effects: vec![Effect::GroupMessage {
                message: bytes.to_vec(),
                sender: Some(sender),
            }],
            state_changed: true,
        })
    }

    /// The key under which this group lists this DS as external sender (the
    /// DS's current key, or an earlier one for groups created before a
    /// rotation): [`DsGroup::ds_remove`] must be given the signer of this key.
    pub fn ds_external_sender_key(&self, ctx: &EngineContext) -> Option<Vec<u8>> {
        self.group
            .public()
            .group_context()
            .extensions()
            .external_senders()?
            .iter()
            .find_map(|s| ctx.own_key_of(s))
    }

    /// Issues a DS-signed Remove proposal for `client` (inactivity, deleted
    /// client or user). The DS keeps asking in later epochs until a commit
    /// removes the client; see [`DsGroup::ds_removals_due`].
    pub fn ds_remove(
        &mut self,
        ctx: &EngineContext,
        client: &ClientId,
        signer: &impl Signer,
    ) -> Result<Outcome, DsError> {
        let leaf = self.roster.leaf_of(client).ok_or_else(|| {
            DsError::new(DsErrorCode::NotAMember, format!("{client} is not a member"))
        })?;
        let sender_index = self
            .group
            .public()
            .group_context()
            .extensions()
            .external_senders()
            .and_then(|senders| senders.iter().position(|s| ctx.is_own_external_sender(s)))
            .ok_or_else(|| {
                DsError::new(
                    DsErrorCode::MissingExternalSender,
                    "the group no longer lists this DS as external sender",
                )
            })?;
        let mut state_changed = false;
        if !self.meta.ds_removals.iter().any(|c| c == client.as_str()) {
            self.meta.ds_removals.push(client.as_str().to_owned());
            state_changed = true;
        }
        if self.removal_stored(leaf)? {
            return Ok(Outcome {
                response: DsResponseBody::Ok,
                effects: Vec::new(),
                state_changed,
            });
        }
        let message = ExternalProposal::new_remove::<OpenMlsRustCrypto>(
            leaf,
            self.group.public().group_id().clone(),
            self.group.public().group_context().epoch(),
            signer,
            SenderExtensionIndex::new(sender_index as u32),
        )
        .map_err(internal)?;
        let bytes = message.tls_serialize_detached().map_err(internal)?;
        let proposal = self.validate_proposal(ctx, &bytes)?;
        self.store_proposal(proposal, &bytes)?;
        Ok(Outcome {
            response: DsResponseBody::Ok,
            effects: vec![Effect::GroupMessage {
                message: bytes,
                sender: None,
            }],
            state_changed: true,
        })
    }

    /// Clients the DS wants removed that have no Remove stored in this epoch;
    /// the server calls [`DsGroup::ds_remove`] for each after every commit.
    pub fn ds_removals_due(&self) -> Vec<ClientId> {
        self.meta
            .ds_removals
            .iter()
            .filter_map(|c| ClientId::new(c).ok())
            .filter(|c| {
                self.roster
                    .leaf_of(c)
                    .is_some_and(|leaf| !self.removal_stored(leaf).unwrap_or(true))
            })
            .collect()
    }
}
