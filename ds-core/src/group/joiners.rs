//! What joiners need: the ratchet tree of the epoch they were added in
//! (Welcome joiners) and a current GroupInfo with tree and pending proposals
//! (external joiners).

use openmls::prelude::LeafNodeIndex;
use tls_codec::Serialize;

use super::DsGroup;
use super::auth::{joiner_signature_content, require_verified_client, verify_content};
use super::context::{EngineContext, UnixSeconds};
use super::effects::Outcome;
use super::state::{EpochTree, PendingJoin};
use crate::wire::{
    Bytes, ClientId, DsAuthData, DsError, DsErrorCode, DsRequest, DsResponseBody,
    ExternalCommitInfo, List, WelcomeInfo, WelcomeInfoRequest,
};

fn internal(e: impl std::fmt::Display) -> DsError {
    DsError::new(DsErrorCode::InternalError, e.to_string())
}

impl DsGroup {
    /// Bookkeeping after a merged commit: who now waits for welcome info,
    /// which trees to keep, which DS removals are done.
    pub(crate) fn after_commit(
        &mut self,
        ctx: &EngineContext,
        committer: &ClientId,
        removed: &[ClientId],
        welcomed: &[(ClientId, Vec<u8>)],
        now: UnixSeconds,
    ) -> Result<(), DsError> {
        let epoch = self.epoch();
        let retention = ctx.welcome_retention_secs;
        self.retain_pending(|p| {
            !removed.iter().any(|r| r.as_str() == p.client)
                && p.client != committer.as_str()
                && now.saturating_sub(p.added_at) <= retention
        });
        if !welcomed.is_empty() {
            for (client, key_package_ref) in welcomed {
                let Some(leaf) = self.roster.leaf_of(client) else {
                    continue;
                };
                let Some(node) = self.group.public().leaf(leaf) else {
                    continue;
                };
                self.meta.pending_joins.push(PendingJoin {
                    client: client.as_str().to_owned(),
                    epoch,
                    leaf: leaf.u32(),
                    key_package_ref: key_package_ref.clone(),
                    signature_key: node.signature_key().as_slice().to_vec(),
                    added_at: now,
                });
            }
            let tree = self
                .group
                .public()
                .export_ratchet_tree()
                .tls_serialize_detached()
                .map_err(internal)?;
            self.meta.epoch_trees.push(EpochTree { epoch, tree });
        }
        let roster = &self.roster;
        self.meta
            .ds_removals
            .retain(|c| ClientId::new(c).is_ok_and(|c| roster.contains(&c)));
        Ok(())
    }

    /// Keeps the pending joins `keep` accepts and the trees they still need;
    /// whether anything was dropped.
    fn retain_pending(&mut self, keep: impl Fn(&PendingJoin) -> bool) -> bool {
        let before = self.meta.pending_joins.len();
        self.meta.pending_joins.retain(|p| keep(p));
        let pending = &self.meta.pending_joins;
        self.meta
            .epoch_trees
            .retain(|t| pending.iter().any(|p| p.epoch == t.epoch));
        before != self.meta.pending_joins.len()
    }

    /// Whether the DS still keeps welcome information for `client`.
    pub(crate) fn is_pending_join(&self, client: &ClientId) -> bool {
        self.meta
            .pending_joins
            .iter()
            .any(|p| p.client == client.as_str())
    }

    /// A client seen active no longer needs its welcome info.
    pub(crate) fn mark_active(&mut self, client: &ClientId) -> bool {
        self.retain_pending(|p| p.client != client.as_str())
    }

    /// Drops welcome info older than the retention period, for groups that
    /// see no commit for a long time; returns whether the state changed (and
    /// must be saved).
    pub fn expire_welcome_info(&mut self, ctx: &EngineContext, now: UnixSeconds) -> bool {
        let retention = ctx.welcome_retention_secs;
        self.retain_pending(|p| now.saturating_sub(p.added_at) <= retention)
    }

    /// `welcome_info`: the tree of the epoch the signer was added in. The
    /// JoinerSignature is checked with the key of the leaf added with the
    /// named key package.
    pub(crate) fn welcome_info(
        &mut self,
        ctx: &EngineContext,
        request: &DsRequest,
        body: &WelcomeInfoRequest,
    ) -> Result<Outcome, DsError> {
        if body.group_id != self.id {
            return Err(DsError::new(
                DsErrorCode::WrongGroup,
                "welcome_info for another group",
            ));
        }
        let DsAuthData::JoinerSignature(js) = &request.auth else {
            return Err(DsError::new(
                DsErrorCode::WrongAuthType,
                "welcome_info requires JoinerSignature authentication",
            ));
        };
        let pending = self
            .meta
            .pending_joins
            .iter()
            .find(|p| p.epoch == body.epoch && p.key_package_ref == js.key_package_ref.as_slice())
            .ok_or_else(|| {
                DsError::new(
                    DsErrorCode::NoWelcomeInfo,
                    format!(
                        "no client added in epoch {} with that key package awaits welcome info",
                        body.epoch
                    ),
                )
            })?;
        let content = joiner_signature_content(request, &js.key_package_ref)?;
        verify_content(
            ctx,
            self.group.public(),
            &content,
            &pending.signature_key,
            js.signature.as_slice(),
        )?;
        let tree = self
            .meta
            .epoch_trees
            .iter()
            .find(|t| t.epoch == body.epoch)
            .ok_or_else(|| DsError::new(DsErrorCode::NoWelcomeInfo, "tree no longer kept"))?;
        let ratchet_tree = Bytes::new(tree.tree.clone()).map_err(internal)?;
        Ok(Outcome::read_only(DsResponseBody::WelcomeInfo(
            WelcomeInfo { ratchet_tree },
        )))
    }

    /// `external_commit_info`, for clients of users that are members
    /// (new devices, or a device resyncing after state loss). The request
    /// carries `RegisteredClient` auth (a client of this domain) or
    /// `VouchedClient` auth (a client of another domain), which the caller
    /// verified: `requester` is the client it names.
    pub(crate) fn external_commit_info(
        &self,
        request: &DsRequest,
        requester: Option<&ClientId>,
    ) -> Result<Outcome, DsError> {
        let requester = require_verified_client(request, requester)?;
        if !self.roster.has_user(requester.user()) {
            return Err(DsError::new(
                DsErrorCode::Unauthorized,
                "only clients of member users may fetch external commit information",
            ));
        }
        let ratchet_tree = self
            .group
            .public()
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(internal)
            .and_then(|t| Bytes::new(t).map_err(internal))?;
        let proposals = self
            .meta
            .stored_proposals
            .iter()
            .map(|p| Bytes::new(p.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .and_then(List::new)
            .map_err(internal)?;
        let group_info = Bytes::new(self.meta.group_info.clone()).map_err(internal)?;
        Ok(Outcome::read_only(DsResponseBody::ExternalCommitInfo(
            ExternalCommitInfo {
                group_info,
                ratchet_tree,
                proposals,
            },
        )))
    }

    /// Leaf index at which `client` waits for welcome info, if any.
    pub fn pending_join_leaf(&self, client: &ClientId) -> Option<LeafNodeIndex> {
        self.meta
            .pending_joins
            .iter()
            .find(|p| p.client == client.as_str())
            .map(|p| LeafNodeIndex::new(p.leaf))
    }
}
