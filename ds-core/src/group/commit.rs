//! Commits: validate like a member, check the operation's rules, then merge.

use openmls::messages::group_info::{GroupInfo, VerifiableGroupInfo};
use openmls::prelude::{
    ContentType, Extensions, KeyPackageRef, LeafNode, LeafNodeIndex, MlsMessageOut,
    OpenMlsSignaturePublicKey, Proposal, ProposalOrRefType, ProposalType, Sender, Signature,
    StagedCommit, Verifiable,
};
use tls_codec::{Deserialize, Serialize};

use super::DsGroup;
use super::auth::{require_anonymous, verify_member_signature};
use super::context::{EngineContext, UnixSeconds};
use super::effects::{Effect, Outcome};
use super::roster::{Roster, client_of};
use super::rules;
use super::vouching;
use crate::wire::{
    ClientId, DsError, DsErrorCode, DsRequest, DsResponseBody, MlsBytes, MlsGroupUpdate,
};

/// The operation a commit was sent as; each has its own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommitOp {
    DeleteGroup,
    AddUsers,
    RemoveUsers,
    AddClients,
    RemoveClients,
    UpdateClient,
    ExternalJoin,
}

/// A client an Add proposal brings in.
#[derive(Debug)]
pub(crate) struct Added {
    pub client: ClientId,
    pub key_package_ref: KeyPackageRef,
    pub connection: bool,
    pub inline: bool,
    /// The key package's leaf (for the voucher of a client of another domain).
    pub leaf: LeafNode,
}

/// A Remove proposal's target.
#[derive(Debug)]
pub(crate) struct Removed {
    pub client: ClientId,
    pub inline: bool,
}

/// A commit that passed MLS validation, with what the rules need to know.
#[derive(Debug)]
pub(crate) struct Staged {
    pub staged: StagedCommit,
    pub message: Vec<u8>,
    /// The committer's client id (for an external commit: the joiner's).
    pub committer: ClientId,
    /// The committer's leaf before the commit (`None` for an external commit).
    pub committer_leaf: Option<LeafNodeIndex>,
    /// Types of the proposals sent inline (by value).
    pub inline_types: Vec<ProposalType>,
    pub added: Vec<Added>,
    pub removed: Vec<Removed>,
    /// The client id of the committer's leaf after the update path, if any.
    pub path_client: Option<ClientId>,
    /// The committer's leaf after the update path, if any.
    pub path_leaf: Option<LeafNode>,
    /// The new epoch's GroupInfo, as an MLSMessage.
    pub group_info: Vec<u8>,
}

fn invalid(detail: impl Into<String>) -> DsError {
    DsError::new(DsErrorCode::InvalidCommit, detail)
}

impl DsGroup {
    /// Handles any commit-carrying operation.
    pub(crate) fn commit(
        &mut self,
        ctx: &EngineContext,
        request: &DsRequest,
        op: CommitOp,
        update: &MlsGroupUpdate,
        welcomes: &[MlsBytes],
        now: UnixSeconds,
    ) -> Result<Outcome, DsError> {
        let signer = if op == CommitOp::ExternalJoin {
            require_anonymous(request)?;
            None
        } else {
            Some(verify_member_signature(ctx, self.group.public(), request)?)
        };
        let staged = self.stage(ctx, update)?;
        match (signer, staged.committer_leaf) {
            (Some(signer), Some(leaf)) if signer != leaf => {
                return Err(DsError::new(
                    DsErrorCode::SenderMismatch,
                    format!(
                        "request signed by leaf {} but commit sent by leaf {}",
                        signer.u32(),
                        leaf.u32()
                    ),
                ));
            }
            (Some(_), None) => {
                return Err(DsError::new(
                    DsErrorCode::SenderMismatch,
                    format!(
                        "{} is signed by a member but committed by an external joiner",
                        request.body.operation().name()
                    ),
                ));
            }
            (None, Some(_)) => {
                return Err(DsError::new(
                    DsErrorCode::InvalidExternalJoin,
                    "an external join must be a NewMemberCommit",
                ));
            }
            _ => {}
        }
        rules::check(op, self, &staged)?;
        vouching::check_new_members(ctx, op, &staged, now)?;
        let welcome_effects = rules::match_welcomes(&staged, welcomes)?;
        self.apply(ctx, op, staged, welcome_effects, now)
    }

    /// Runs the commit through openmls and rebuilds the new GroupInfo; changes nothing.
    fn stage(&self, ctx: &EngineContext, update: &MlsGroupUpdate) -> Result<Staged, DsError> {
        let message = self
            .group
            .framed(update.commit.as_slice(), ContentType::Commit, "commit")?;
        let confirmation_tag = message
            .confirmation_tag()
            .cloned()
            .ok_or_else(|| invalid("the commit has no confirmation tag"))?;
        let sender = message.sender().clone();
        let staged = self.group.stage_commit(ctx.crypto(), message)?;

        let (committer_leaf, gi_signer) = match sender {
            Sender::Member(leaf) => (Some(leaf), leaf),
            Sender::NewMemberCommit => {
                let leaf = self
                    .group
                    .public()
                    .ext_commit_sender_index(&staged)
                    .map_err(|e| invalid(e.to_string()))?;
                (None, leaf)
            }
            _ => return Err(invalid("a commit must come from a member or a new member")),
        };
        let path_leaf = staged.update_path_leaf_node();
        let signer_key = match (path_leaf, committer_leaf) {
            (Some(leaf), _) => leaf.signature_key().clone(),
            (None, Some(leaf)) => self
                .group
                .public()
                .leaf(leaf)
                .ok_or_else(|| invalid("committer leaf is blank"))?
                .signature_key()
                .clone(),
            (None, None) => return Err(invalid("an external commit needs an update path")),
        };
        let path_client = path_leaf.map(|l| client_of(l.credential())).transpose()?;
        let path_leaf = path_leaf.cloned();
        let committer = match (committer_leaf, &path_client) {
            (Some(leaf), _) => self
                .roster
                .client_at(leaf)
                .cloned()
                .ok_or_else(|| invalid("committer is not a member"))?,
            (None, Some(client)) => client.clone(),
            (None, None) => return Err(invalid("an external commit needs an update path")),
        };

        let group_info = self.rebuild_group_info(
            ctx,
            &staged,
            update,
            confirmation_tag,
            gi_signer,
            signer_key,
        )?;

        let mut inline_types = Vec::new();
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for queued in staged.queued_proposals() {
            let inline = queued.proposal_or_ref_type() == ProposalOrRefType::Proposal;
            if inline {
                inline_types.push(queued.proposal().proposal_type());
            }
            match queued.proposal() {
                Proposal::Add(add) => {
                    let kp = add.key_package();
                    added.push(Added {
                        client: client_of(kp.leaf_node().credential())?,
                        key_package_ref: kp
                            .hash_ref(ctx.crypto())
                            .map_err(|e| invalid(e.to_string()))?,
                        connection: rules::is_connection_key_package(kp),
                        inline,
                        leaf: kp.leaf_node().clone(),
                    });
                }
                Proposal::Remove(remove) => {
                    let client = self
                        .roster
                        .client_at(remove.removed())
                        .cloned()
                        .ok_or_else(|| invalid("a Remove targets a blank leaf"))?;
                    removed.push(Removed { client, inline });
                }
                _ => {}
            }
        }
        Ok(Staged {
            staged,
            message: update.commit.as_slice().to_vec(),
            committer,
            committer_leaf,
            inline_types,
            added,
            removed,
            path_client,
            path_leaf,
            group_info,
        })
    }

    /// GroupInfo{new context, uploaded extensions, confirmation tag, committer, uploaded
    /// signature}, verified with the committer's (new) key, as an MLSMessage.
    fn rebuild_group_info(
        &self,
        ctx: &EngineContext,
        staged: &StagedCommit,
        update: &MlsGroupUpdate,
        confirmation_tag: openmls::prelude::ConfirmationTag,
        signer: LeafNodeIndex,
        signer_key: openmls::prelude::SignaturePublicKey,
    ) -> Result<Vec<u8>, DsError> {
        let bad = |detail: String| DsError::new(DsErrorCode::InvalidPartialGroupInfo, detail);
        let partial = &update.partial_group_info;
        let extensions = Extensions::<GroupInfo>::tls_deserialize_exact(
            partial.group_info_extensions.as_slice(),
        )
        .map_err(|e| bad(format!("GroupInfo extensions do not parse: {e}")))?;
        let verifiable = VerifiableGroupInfo::new(
            staged.group_context().clone(),
            extensions,
            confirmation_tag,
            signer,
            Signature::from(partial.signature.as_slice().to_vec()),
        );
        let key = OpenMlsSignaturePublicKey::from_signature_key(
            signer_key,
            self.group.public().ciphersuite().signature_algorithm(),
        );
        let group_info: GroupInfo = verifiable
            .verify(ctx.crypto(), &key)
            .map_err(|_| bad("the GroupInfo signature does not verify for the new epoch".into()))?;
        MlsMessageOut::from(group_info)
            .tls_serialize_detached()
            .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
    }

    /// Merges a validated commit and records its consequences.
    fn apply(
        &mut self,
        ctx: &EngineContext,
        op: CommitOp,
        staged: Staged,
        welcome_effects: Vec<Effect>,
        now: UnixSeconds,
    ) -> Result<Outcome, DsError> {
        let Staged {
            staged,
            message,
            committer,
            committer_leaf,
            group_info,
            added: added_by_proposal,
            removed: removed_by_proposal,
            ..
        } = staged;
        // Only adds, removes and external joins move clients between leaves;
        // an update keeps the roster (its client id is checked unchanged).
        let leaves_changed = !added_by_proposal.is_empty()
            || !removed_by_proposal.is_empty()
            || committer_leaf.is_none();
        let welcomed: Vec<(ClientId, Vec<u8>)> = added_by_proposal
            .into_iter()
            .map(|a| (a.client, a.key_package_ref.as_slice().to_vec()))
            .collect();
        self.group.merge(staged)?;
        let (added, removed) = if leaves_changed {
            let roster = Roster::of(self.group.public())?;
            let diff = roster.diff(&self.roster);
            self.roster = roster;
            diff
        } else {
            (Vec::new(), Vec::new())
        };
        self.meta.group_info = group_info;
        self.meta.stored_proposals.clear();
        self.after_commit(ctx, &committer, &removed, &welcomed, now)?;

        let mut effects = vec![
            Effect::GroupMessage {
                message,
                sender: Some(committer),
            },
            Effect::RosterChange { added, removed },
        ];
        effects.extend(welcome_effects);
        if op == CommitOp::DeleteGroup {
            effects.push(Effect::GroupDeleted);
        }
        Ok(Outcome {
            response: DsResponseBody::Ok,
            effects,
            state_changed: true,
        })
    }
}
