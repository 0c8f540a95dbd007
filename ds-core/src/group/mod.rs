//! The owning DS's view of one group.
//!
//! A [`DsGroup`] is a [`PassiveGroup`] (openmls's [`PublicGroup`]: tree,
//! context, transcript hashes, proposals of this epoch) plus the draft's
//! operation rules, the roster and what the DS keeps for joiners. Each
//! request goes through [`DsGroup::process`]: all validation happens before
//! anything is changed, so an error always leaves the state as it was. The
//! caller saves [`DsGroup::to_bytes`] whenever [`Outcome::state_changed`].

mod auth;
mod commit;
mod context;
mod create;
mod effects;
mod issuers;
mod joiners;
mod message;
mod mls;
mod passive;
mod proposals;
mod roster;
mod rules;
mod state;
mod storage;
mod vouching;

use openmls::group::PublicGroup;

pub use auth::{
    accepts_registered_client, accepts_vouched_client, client_signature_content,
    joiner_signature_content, registered_client_auth, vouched_client_auth,
};
pub use context::{EngineContext, UnixSeconds};
pub use effects::{Effect, Outcome};
pub use issuers::{voucher_issuers, voucher_key_ids};
pub use passive::{Handshake, PassiveGroup};
pub use roster::{Roster, client_of};
pub use rules::CONNECTION_KEY_PACKAGE_EXTENSION;
pub use state::STATE_FORMAT;

use state::GroupMeta;

use crate::wire::{DsError, DsErrorCode, DsRequest, DsRequestBody, GroupId, GroupKind};

/// One group as its owning DS sees it.
#[derive(Debug)]
pub struct DsGroup {
    id: GroupId,
    group: PassiveGroup,
    roster: Roster,
    meta: GroupMeta,
}

impl DsGroup {
    /// Handles one request addressed to this group.
    ///
    /// `requester` is the client whose `RegisteredClient` or `VouchedClient`
    /// authentication the caller verified (key, voucher, freshness, nonce;
    /// see [`crate::queue::verify_registered_client`] and
    /// [`crate::queue::verify_vouched_client`]), if any. Operations that
    /// require it (`external_commit_info`) refuse a request whose
    /// authentication names another client than `requester`.
    pub fn process(
        &mut self,
        ctx: &EngineContext,
        request: &DsRequest,
        requester: Option<&crate::wire::ClientId>,
        now: UnixSeconds,
    ) -> Result<Outcome, DsError> {
        if !request.version.is_supported() {
            return Err(DsError::new(
                DsErrorCode::UnsupportedVersion,
                format!("unsupported protocol version {}", request.version.0),
            ));
        }
        use commit::CommitOp;
        match &request.body {
            DsRequestBody::DeleteGroup(r) => self.commit(
                ctx,
                request,
                CommitOp::DeleteGroup,
                &r.group_update,
                &[],
                now,
            ),
            DsRequestBody::AddUsers(r) => self.commit(
                ctx,
                request,
                CommitOp::AddUsers,
                &r.group_update,
                r.welcomes.as_slice(),
                now,
            ),
            DsRequestBody::RemoveUsers(r) => self.commit(
                ctx,
                request,
                CommitOp::RemoveUsers,
                &r.group_update,
                &[],
                now,
            ),
            DsRequestBody::AddClients(r) => self.commit(
                ctx,
                request,
                CommitOp::AddClients,
                &r.group_update,
                r.welcomes.as_slice(),
                now,
            ),
            DsRequestBody::RemoveClients(r) => self.commit(
                ctx,
                request,
                CommitOp::RemoveClients,
                &r.group_update,
                &[],
                now,
            ),
            DsRequestBody::UpdateClient(r) => self.commit(
                ctx,
                request,
                CommitOp::UpdateClient,
                &r.group_update,
                &[],
                now,
            ),
            DsRequestBody::ExternalJoin(r) => self.commit(
                ctx,
                request,
                CommitOp::ExternalJoin,
                &r.group_update,
                &[],
                now,
            ),
            DsRequestBody::SelfRemoveClient(r) => self.self_remove(ctx, request, r),
            DsRequestBody::SendMessage(r) => self.send_message(ctx, request, r),
            DsRequestBody::WelcomeInfo(r) => self.welcome_info(ctx, request, r),
            DsRequestBody::ExternalCommitInfo(r) => {
                if r.group_id != self.id {
                    return Err(DsError::new(
                        DsErrorCode::WrongGroup,
                        "external_commit_info for another group",
                    ));
                }
                self.external_commit_info(request, requester)
            }
            DsRequestBody::RequestGroupId
            | DsRequestBody::CreateGroup(_)
            | DsRequestBody::SignaturePublicKey
            | DsRequestBody::KeyPackages(_)
            | DsRequestBody::ConnectionKeyPackages(_)
            | DsRequestBody::UserKeyPackages(_) => Err(DsError::new(
                DsErrorCode::UnsupportedOperation,
                format!(
                    "{} is not an operation on an existing group",
                    request.body.operation().name()
                ),
            )),
        }
    }

    /// The group id.
    pub fn group_id(&self) -> &GroupId {
        &self.id
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.public().group_context().epoch().as_u64()
    }

    /// The tree hash of the current epoch.
    pub fn tree_hash(&self) -> &[u8] {
        self.group.public().group_context().tree_hash()
    }

    /// The members of the current epoch.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// Regular or connection group.
    pub fn kind(&self) -> GroupKind {
        self.meta.kind()
    }

    /// openmls's public view of the group (read-only).
    pub fn public_group(&self) -> &PublicGroup {
        self.group.public()
    }

    /// The current signed GroupInfo as an MLSMessage.
    pub fn group_info(&self) -> &[u8] {
        &self.meta.group_info
    }

    /// Epochs for which a ratchet tree is kept for joiners.
    pub fn retained_tree_epochs(&self) -> Vec<u64> {
        self.meta.epoch_trees.iter().map(|t| t.epoch).collect()
    }
}
