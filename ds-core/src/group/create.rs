//! `create_group`: a new group from the creator's LeafNode and GroupInfo.

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::MlsMessageOut;
use openmls::prelude::{LeafNodeIndex, MlsMessageBodyIn, RatchetTreeIn};
use tls_codec::{Deserialize, Serialize};

use super::DsGroup;
use super::context::{EngineContext, UnixSeconds};
use super::effects::{Effect, Outcome};
use super::mls::parse_message;
use super::passive::PassiveGroup;
use super::roster::{Roster, client_of};
use super::state::GroupMeta;
use crate::wire::{CreateGroupRequest, DsError, DsErrorCode, DsResponseBody, GroupKind};

fn err(code: DsErrorCode, detail: impl Into<String>) -> DsError {
    DsError::new(code, detail)
}

/// A one-leaf ratchet tree holding `leaf_node` (RFC 9420 encoding).
fn single_leaf_tree(leaf_node: &[u8]) -> Result<RatchetTreeIn, DsError> {
    // optional<Node> nodes<V>: present(1), node_type leaf(1), LeafNode.
    let mut content = vec![1u8, 1u8];
    content.extend_from_slice(leaf_node);
    let bytes = crate::wire::Bytes::<{ crate::wire::limits::MAX_RATCHET_TREE }>::new(content)
        .and_then(|b| b.tls_serialize_detached())
        .map_err(|e| err(DsErrorCode::InvalidLeafNode, e.to_string()))?;
    RatchetTreeIn::tls_deserialize_exact(&bytes).map_err(|e| {
        err(
            DsErrorCode::InvalidLeafNode,
            format!("LeafNode does not parse: {e}"),
        )
    })
}

impl DsGroup {
    /// Creates a group. The caller has checked that `request.group_id` was
    /// allocated by this DS and is not in use (`GroupIdInUse` otherwise).
    pub fn create(
        ctx: &EngineContext,
        request: &CreateGroupRequest,
        _now: UnixSeconds,
    ) -> Result<(Self, Outcome), DsError> {
        let id = &request.group_id;
        if id.domain() != ctx.domain().as_str() {
            return Err(err(
                DsErrorCode::InvalidGroupId,
                format!("group id {id} does not belong to {}", ctx.domain()),
            ));
        }
        let tree = single_leaf_tree(request.leaf_node.as_slice())?;
        let group_info: VerifiableGroupInfo =
            match parse_message(request.group_info.as_slice(), "group_info")?.extract() {
                MlsMessageBodyIn::GroupInfo(gi) => gi,
                _ => {
                    return Err(err(
                        DsErrorCode::InvalidGroupInfo,
                        "group_info is not a GroupInfo message",
                    ));
                }
            };
        if group_info.group_id().as_slice() != id.as_bytes() {
            return Err(err(
                DsErrorCode::InvalidGroupId,
                "the GroupInfo names another group id than the request",
            ));
        }
        if group_info.epoch().as_u64() != 0 {
            return Err(err(
                DsErrorCode::InvalidGroupInfo,
                "a new group starts at epoch 0",
            ));
        }
        let (group, verified) = PassiveGroup::from_external(ctx.crypto(), tree, group_info)?;
        let listed = group
            .public()
            .group_context()
            .extensions()
            .external_senders()
            .is_some_and(|senders| senders.iter().any(|s| ctx.is_own_external_sender(s)));
        if !listed {
            return Err(err(
                DsErrorCode::MissingExternalSender,
                format!(
                    "external_senders must list the credential and key of {}",
                    ctx.domain()
                ),
            ));
        }
        let creator = group
            .public()
            .leaf(LeafNodeIndex::new(0))
            .ok_or_else(|| err(DsErrorCode::InvalidLeafNode, "no creator leaf"))
            .and_then(|leaf| client_of(leaf.credential()))?;
        let roster = Roster::of(group.public())?;
        let group_info = MlsMessageOut::from(verified)
            .tls_serialize_detached()
            .map_err(|e| err(DsErrorCode::InternalError, e.to_string()))?;
        let meta = GroupMeta {
            connection: request.group_kind == GroupKind::Connection,
            group_info,
            pending_joins: Vec::new(),
            epoch_trees: Vec::new(),
            stored_proposals: Vec::new(),
            ds_removals: Vec::new(),
        };
        let group = Self {
            id: id.clone(),
            group,
            roster,
            meta,
        };
        let outcome = Outcome {
            response: DsResponseBody::Ok,
            effects: vec![Effect::RosterChange {
                added: vec![creator],
                removed: Vec::new(),
            }],
            state_changed: true,
        };
        Ok((group, outcome))
    }
}
