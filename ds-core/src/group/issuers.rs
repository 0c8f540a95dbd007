//! Which other domains' DS keys a request will need (spec §11.4), read from
//! the commit before the engine runs, so that the server can fetch them
//! first: the engine itself does no I/O.

use openmls::messages::proposals_in::{ProposalIn, ProposalOrRefIn};
use openmls::prelude::{Credential, KeyPackageIn, Sender};
use tls_codec::{Deserialize, Serialize, VLBytes};

use super::roster::client_of;
use super::vouching::foreign_domains;
use crate::wire::{ClientId, Domain, DsRequest, DsRequestBody};

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
    let new_members = match &request.body {
        DsRequestBody::AddUsers(r) | DsRequestBody::AddClients(r) => {
            read_commit(r.group_update.commit.as_slice()).map(|c| c.added)
        }
        DsRequestBody::ExternalJoin(r) => read_commit(r.group_update.commit.as_slice())
            .map(|c| c.path_client.into_iter().collect()),
        _ => None,
    };
    foreign_domains(new_members.unwrap_or_default().iter(), own)
}

/// The clients a commit names: its Add proposals' and its path leaf's.
struct CommitClients {
    added: Vec<ClientId>,
    path_client: Option<ClientId>,
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

/// The client of an inline Add proposal's key package.
fn added_client(proposal: &ProposalOrRefIn) -> Option<ClientId> {
    let ProposalOrRefIn::Proposal(proposal) = proposal else {
        return None;
    };
    let ProposalIn::Add(add) = proposal.as_ref() else {
        return None;
    };
    // AddProposalIn is exactly a KeyPackage on the wire.
    let encoded = add.tls_serialize_detached().ok()?;
    let key_package = KeyPackageIn::tls_deserialize_exact(encoded).ok()?;
    client_of(&key_package.unverified_credential().credential).ok()
}

/// The client of a LeafNode `{ encryption_key<V>, signature_key<V>,
/// Credential credential, .. }` read from `reader`.
fn leaf_client(reader: &mut &[u8]) -> Option<ClientId> {
    let _encryption_key = VLBytes::tls_deserialize(reader).ok()?;
    let _signature_key = VLBytes::tls_deserialize(reader).ok()?;
    let credential = Credential::tls_deserialize(reader).ok()?;
    client_of(&credential).ok()
}
