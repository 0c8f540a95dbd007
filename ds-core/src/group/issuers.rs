//! Which other domains' DS keys a request will need (spec §11.4), read from
//! the commit before the engine runs, so that the server can fetch them
//! first: the engine itself does no I/O.

use openmls::messages::proposals_in::{ProposalIn, ProposalOrRefIn};
use openmls::prelude::{Capabilities, Credential, KeyPackageIn, Sender};
use tls_codec::{Deserialize, Serialize, VLBytes};

use super::roster::client_of;
use super::vouching::foreign_domains;
use crate::wire::{
    ClientId, ClientVoucher, Domain, DsRequest, DsRequestBody, VOUCHER_EXTENSION_TYPE,
};

/// `wire_format` of an MLSMessage holding a PublicMessage (RFC 9420 §6).
const WIRE_FORMAT_PUBLIC_MESSAGE: u16 = 1;
/// `content_type` of a commit (RFC 9420 §6).
const CONTENT_TYPE_COMMIT: u8 = 3;

/// The distinct domains other than `own` of the clients `request` brings
/// into its group: the added key packages' clients (AddUsers, AddClients)
/// or the external joiner (ExternalJoin). Empty for other operations and for
/// anything that does not parse (the engine then refuses it properly).
/// Reads only the framing and credentials; verifies nothing.
pub fn voucher_issuers(request: &DsRequest, own: &Domain) -> Vec<Domain> {
    let new_members = new_members(request);
    foreign_domains(new_members.iter().map(|(client, _)| client), own)
}

/// The `(issuer, key_id)` of the vouchers carried by the new members of
/// other domains than `own`, where the issuer is the member's own domain
/// (any other voucher is refused by the engine without a key): the keys the
/// server must know, refetching a domain's keys for an id it has not seen.
pub fn voucher_key_ids(request: &DsRequest, own: &Domain) -> Vec<(Domain, Vec<u8>)> {
    let mut out: Vec<(Domain, Vec<u8>)> = Vec::new();
    for (client, voucher) in new_members(request) {
        let Some(voucher) = voucher else { continue };
        if client.domain() == own.as_str() || voucher.issuer.as_str() != client.domain() {
            continue;
        }
        let wanted = (voucher.issuer, voucher.key_id.as_slice().to_vec());
        if !out.contains(&wanted) {
            out.push(wanted);
        }
    }
    out
}

/// The new members of `request`'s commit with the vouchers in their leaves.
fn new_members(request: &DsRequest) -> Vec<(ClientId, Option<ClientVoucher>)> {
    let members = match &request.body {
        DsRequestBody::AddUsers(r) | DsRequestBody::AddClients(r) => {
            read_commit(r.group_update.commit.as_slice()).map(|c| c.added)
        }
        DsRequestBody::ExternalJoin(r) => read_commit(r.group_update.commit.as_slice())
            .map(|c| c.path_client.into_iter().collect()),
        _ => None,
    };
    members.unwrap_or_default()
}

/// The clients a commit names, with their leaves' vouchers: its Add
/// proposals' and its path leaf's.
struct CommitClients {
    added: Vec<(ClientId, Option<ClientVoucher>)>,
    path_client: Option<(ClientId, Option<ClientVoucher>)>,
}

/// Reads `MLSMessage { version, wire_format = public_message, FramedContent
/// { group_id, epoch, sender, authenticated_data, content_type = commit,
/// Commit { proposals, optional<UpdatePath> path } } .. }` up to the path's
/// leaf credential.
fn read_commit(bytes: &[u8]) -> Option<CommitClients> {
    let reader = &mut &*bytes;
    let _version = u16::tls_deserialize(reader).ok()?;
    if u16::tls_deserialize(reader).ok()? != WIRE_FORMAT_PUBLIC_MESSAGE {
        return None;
    }
    let _group_id = VLBytes::tls_deserialize(reader).ok()?;
    let _epoch = u64::tls_deserialize(reader).ok()?;
    let _sender = Sender::tls_deserialize(reader).ok()?;
    let _authenticated_data = VLBytes::tls_deserialize(reader).ok()?;
    if u8::tls_deserialize(reader).ok()? != CONTENT_TYPE_COMMIT {
        return None;
    }
    let proposals = Vec::<ProposalOrRefIn>::tls_deserialize(reader).ok()?;
    let added = proposals.iter().filter_map(added_client).collect();
    let path_client = match u8::tls_deserialize(reader).ok()? {
        1 => Some(leaf_client(reader)?),
        _ => None,
    };
    Some(CommitClients { added, path_client })
}

/// The client of an inline Add proposal's key package, with its voucher.
fn added_client(proposal: &ProposalOrRefIn) -> Option<(ClientId, Option<ClientVoucher>)> {
    let ProposalOrRefIn::Proposal(proposal) = proposal else {
        return None;
    };
    let ProposalIn::Add(add) = proposal.as_ref() else {
        return None;
    };
    // AddProposalIn is exactly a KeyPackage on the wire.
    let encoded = add.tls_serialize_detached().ok()?;
    let key_package = KeyPackageIn::tls_deserialize_exact(&encoded).ok()?;
    let client = client_of(&key_package.unverified_credential().credential).ok()?;
    // KeyPackageTBS { version, cipher_suite, init_key<V>, LeafNode leaf_node, .. }
    let reader = &mut encoded.as_slice();
    let _version = u16::tls_deserialize(reader).ok()?;
    let _cipher_suite = u16::tls_deserialize(reader).ok()?;
    let _init_key = VLBytes::tls_deserialize(reader).ok()?;
    let (_, voucher) = leaf_client(reader)?;
    Some((client, voucher))
}

/// The client of the LeafNode read from `reader`, with its voucher: `{
/// encryption_key<V>, signature_key<V>, Credential, Capabilities,
/// LeafNodeSource (key_package: Lifetime | update | commit: parent_hash<V>),
/// Extension extensions<V>, .. }`.
fn leaf_client(reader: &mut &[u8]) -> Option<(ClientId, Option<ClientVoucher>)> {
    let _encryption_key = VLBytes::tls_deserialize(reader).ok()?;
    let _signature_key = VLBytes::tls_deserialize(reader).ok()?;
    let credential = Credential::tls_deserialize(reader).ok()?;
    let client = client_of(&credential).ok()?;
    let _capabilities = Capabilities::tls_deserialize(reader).ok()?;
    match u8::tls_deserialize(reader).ok()? {
        1 => {
            let _not_before = u64::tls_deserialize(reader).ok()?;
            let _not_after = u64::tls_deserialize(reader).ok()?;
        }
        2 => {}
        3 => {
            let _parent_hash = VLBytes::tls_deserialize(reader).ok()?;
        }
        _ => return Some((client, None)),
    }
    let extensions = VLBytes::tls_deserialize(reader).ok()?;
    Some((client, voucher_in(extensions.as_slice())))
}

/// The voucher among encoded `Extension { uint16 type; opaque data<V> }`s,
/// if one decodes (nothing verified).
fn voucher_in(mut extensions: &[u8]) -> Option<ClientVoucher> {
    while !extensions.is_empty() {
        let kind = u16::tls_deserialize(&mut extensions).ok()?;
        let data = VLBytes::tls_deserialize(&mut extensions).ok()?;
        if kind == VOUCHER_EXTENSION_TYPE {
            return ClientVoucher::tls_deserialize_exact(data.as_slice()).ok();
        }
    }
    None
}
