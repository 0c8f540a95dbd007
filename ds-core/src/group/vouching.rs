//! Vouchers of new members of other domains (spec §11.4): the owning DS lets
//! a client of another domain into a group only with its home DS's voucher
//! for the client's leaf key, carried in the leaf's extension
//! [`VOUCHER_EXTENSION_TYPE`]. Own-domain members need none: this DS knows
//! their keys itself.

use openmls::prelude::LeafNode;
use tls_codec::Deserialize;

use super::commit::{CommitOp, Staged};
use super::context::{EngineContext, UnixSeconds};
use crate::federation::check_voucher;
use crate::wire::{ClientId, ClientVoucher, Domain, DsError, DsErrorCode, VOUCHER_EXTENSION_TYPE};

fn unvouched(detail: String) -> DsError {
    DsError::new(DsErrorCode::UnvouchedClient, detail)
}

/// Checks the voucher of every new member of another domain: each added key
/// package's leaf (AddUsers, AddClients) and the joiner's new leaf
/// (ExternalJoin). Other operations bring in no one.
pub(crate) fn check_new_members(
    ctx: &EngineContext,
    op: CommitOp,
    staged: &Staged,
    now: UnixSeconds,
) -> Result<(), DsError> {
    match op {
        CommitOp::AddUsers | CommitOp::AddClients => staged
            .added
            .iter()
            .try_for_each(|a| check_member(ctx, &a.client, &a.leaf, now)),
        CommitOp::ExternalJoin => match &staged.path_leaf {
            Some(leaf) => check_member(ctx, &staged.committer, leaf, now),
            // stage() refuses an external commit without a path already.
            None => Err(unvouched(format!(
                "the external join of {} carries no new leaf",
                staged.committer
            ))),
        },
        CommitOp::DeleteGroup
        | CommitOp::RemoveUsers
        | CommitOp::RemoveClients
        | CommitOp::UpdateClient => Ok(()),
    }
}

/// A member of this DS's domain passes; one of another domain needs a
/// voucher its home DS signed with a key this DS knows.
fn check_member(
    ctx: &EngineContext,
    client: &ClientId,
    leaf: &LeafNode,
    now: UnixSeconds,
) -> Result<(), DsError> {
    if client.domain() == ctx.domain().as_str() {
        return Ok(());
    }
    let voucher = leaf_voucher(client, leaf)?;
    let issuer = &voucher.issuer;
    let keys = ctx
        .voucher_keys()
        .and_then(|known| known.keys(issuer))
        .filter(|keys| !keys.is_empty())
        .ok_or_else(|| unvouched(format!("no signing keys of {issuer} are known")))?;
    check_voucher(
        &voucher,
        client.as_str(),
        leaf.signature_key().as_slice(),
        &keys,
        now,
    )
}

/// The voucher in `leaf`'s extension, decoded strictly (the whole extension,
/// nothing after it).
fn leaf_voucher(client: &ClientId, leaf: &LeafNode) -> Result<ClientVoucher, DsError> {
    let extension = leaf
        .extensions()
        .unknown(VOUCHER_EXTENSION_TYPE)
        .ok_or_else(|| {
            unvouched(format!(
                "{client} is of another domain and its leaf carries no voucher \
                 (extension {VOUCHER_EXTENSION_TYPE:#06x})"
            ))
        })?;
    ClientVoucher::tls_deserialize_exact(extension.0.as_slice()).map_err(|e| {
        unvouched(format!(
            "the voucher in the leaf of {client} is malformed: {e}"
        ))
    })
}

/// The domains whose keys the engine may need, for the caller to fetch first.
pub(crate) fn foreign_domains<'a>(
    clients: impl Iterator<Item = &'a ClientId>,
    own: &Domain,
) -> Vec<Domain> {
    let mut out: Vec<Domain> = Vec::new();
    for client in clients {
        if client.domain() == own.as_str() {
            continue;
        }
        if let Ok(domain) = Domain::new(client.domain())
            && !out.contains(&domain)
        {
            out.push(domain);
        }
    }
    out
}
