//! `DSRequest`: the client-to-server message, one body variant per operation.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::auth::DsAuthData;
use super::codec::{Bytes, List};
use super::group_update::{MlsBytes, MlsGroupUpdate};
use super::ids::{ClientId, GroupId, UserId};
use super::limits::{MAX_KEY_PACKAGE_TARGETS, MAX_LEAF_NODE, MAX_WELCOMES};
use super::version::ProtocolVersion;

/// A client's request to a DS.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct DsRequest {
    /// Protocol version; decoding stops with `UnsupportedVersion` on an unknown one.
    pub version: ProtocolVersion,
    /// The operation and its data.
    pub body: DsRequestBody,
    /// How the request is authenticated.
    pub auth: DsAuthData,
}

/// Whether a group is an ordinary group or a connection group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum GroupKind {
    /// An ordinary group.
    Regular = 0,
    /// A connection group (two users; connection key packages allowed).
    Connection = 1,
}

/// `CreateGroupRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct CreateGroupRequest {
    /// An id allocated by `request_group_id` on this DS.
    pub group_id: GroupId,
    /// Regular or connection group.
    pub group_kind: GroupKind,
    /// The creator's LeafNode (RFC 9420 encoding).
    pub leaf_node: Bytes<MAX_LEAF_NODE>,
    /// An MLSMessage holding the signed GroupInfo of epoch 0.
    pub group_info: MlsBytes,
}

/// A request that is only a commit with its PartialGroupInfo.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupUpdateRequest {
    /// The commit.
    pub group_update: MlsGroupUpdate,
}

/// A commit that adds members, with the Welcomes for them.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct AddRequest {
    /// The commit with Add proposals.
    pub group_update: MlsGroupUpdate,
    /// MLSMessages holding Welcomes; together they cover every added client once.
    pub welcomes: List<MlsBytes, MAX_WELCOMES>,
}

/// `SelfRemoveClientRequest`: a Remove proposal of the sender's own leaf.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SelfRemoveClientRequest {
    /// An MLSMessage holding a PublicMessage proposal.
    pub proposal: MlsBytes,
}

/// `SendMessageRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SendMessageRequest {
    /// An MLSMessage holding a PrivateMessage of content type application.
    pub application_message: MlsBytes,
}

/// `KeyPackagesRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyPackagesRequest {
    /// Clients of this DS whose key packages are wanted.
    pub client_ids: List<ClientId, MAX_KEY_PACKAGE_TARGETS>,
}

/// `ConnectionKeyPackagesRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ConnectionKeyPackagesRequest {
    /// A user of this DS.
    pub user_id: UserId,
}

/// `UserKeyPackagesRequest`: key packages to add every client of a user to a
/// regular group, asked of the user's home DS.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserKeyPackagesRequest {
    /// The user, of the addressed DS's domain.
    pub user_id: UserId,
}

/// Asks for the ratchet tree of the epoch in which the requester was added.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct WelcomeInfoRequest {
    /// The group joined.
    pub group_id: GroupId,
    /// The epoch named in the Welcome's GroupInfo.
    pub epoch: u64,
}

/// Asks for what an external commit needs.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ExternalCommitInfoRequest {
    /// The group to join.
    pub group_id: GroupId,
}

/// `DSRequestBody`: the `DSRequestType` and the data of that operation.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum DsRequestBody {
    /// `ds_request_group_id(0)`.
    #[tls_codec(discriminant = 0)]
    RequestGroupId,
    /// `ds_create_group(1)`.
    #[tls_codec(discriminant = 1)]
    CreateGroup(CreateGroupRequest),
    /// `ds_delete_group(2)`.
    #[tls_codec(discriminant = 2)]
    DeleteGroup(GroupUpdateRequest),
    /// `ds_add_users(3)`.
    #[tls_codec(discriminant = 3)]
    AddUsers(AddRequest),
    /// `ds_remove_users(4)`.
    #[tls_codec(discriminant = 4)]
    RemoveUsers(GroupUpdateRequest),
    /// `ds_add_clients(5)`.
    #[tls_codec(discriminant = 5)]
    AddClients(AddRequest),
    /// `ds_remove_clients(6)`.
    #[tls_codec(discriminant = 6)]
    RemoveClients(GroupUpdateRequest),
    /// `ds_self_remove_client(7)`.
    #[tls_codec(discriminant = 7)]
    SelfRemoveClient(SelfRemoveClientRequest),
    /// `ds_update_client(8)`.
    #[tls_codec(discriminant = 8)]
    UpdateClient(GroupUpdateRequest),
    /// `ds_external_join(9)`.
    #[tls_codec(discriminant = 9)]
    ExternalJoin(GroupUpdateRequest),
    /// `ds_send_message(10)`.
    #[tls_codec(discriminant = 10)]
    SendMessage(SendMessageRequest),
    /// `ds_signature_public_key(11)`.
    #[tls_codec(discriminant = 11)]
    SignaturePublicKey,
    /// `ds_key_packages(12)`.
    #[tls_codec(discriminant = 12)]
    KeyPackages(KeyPackagesRequest),
    /// `ds_connection_key_packages(13)`.
    #[tls_codec(discriminant = 13)]
    ConnectionKeyPackages(ConnectionKeyPackagesRequest),
    /// `ds_welcome_info(14)`.
    #[tls_codec(discriminant = 14)]
    WelcomeInfo(WelcomeInfoRequest),
    /// `ds_external_commit_info(15)`.
    #[tls_codec(discriminant = 15)]
    ExternalCommitInfo(ExternalCommitInfoRequest),
    /// One regular key package per client of a user (spec §8.18).
    #[tls_codec(discriminant = 16)]
    UserKeyPackages(UserKeyPackagesRequest),
}

/// The operation of a request, for logs, metrics and dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    RequestGroupId,
    CreateGroup,
    DeleteGroup,
    AddUsers,
    RemoveUsers,
    AddClients,
    RemoveClients,
    SelfRemoveClient,
    UpdateClient,
    ExternalJoin,
    SendMessage,
    SignaturePublicKey,
    KeyPackages,
    ConnectionKeyPackages,
    WelcomeInfo,
    ExternalCommitInfo,
    UserKeyPackages,
}

impl Operation {
    /// A stable lowercase name (metric label, log field).
    pub fn name(self) -> &'static str {
        match self {
            Self::RequestGroupId => "request_group_id",
            Self::CreateGroup => "create_group",
            Self::DeleteGroup => "delete_group",
            Self::AddUsers => "add_users",
            Self::RemoveUsers => "remove_users",
            Self::AddClients => "add_clients",
            Self::RemoveClients => "remove_clients",
            Self::SelfRemoveClient => "self_remove_client",
            Self::UpdateClient => "update_client",
            Self::ExternalJoin => "external_join",
            Self::SendMessage => "send_message",
            Self::SignaturePublicKey => "signature_public_key",
            Self::KeyPackages => "key_packages",
            Self::ConnectionKeyPackages => "connection_key_packages",
            Self::WelcomeInfo => "welcome_info",
            Self::ExternalCommitInfo => "external_commit_info",
            Self::UserKeyPackages => "user_key_packages",
        }
    }
}

impl DsRequestBody {
    /// Which operation this body asks for.
    pub fn operation(&self) -> Operation {
        match self {
            Self::RequestGroupId => Operation::RequestGroupId,
            Self::CreateGroup(_) => Operation::CreateGroup,
            Self::DeleteGroup(_) => Operation::DeleteGroup,
            Self::AddUsers(_) => Operation::AddUsers,
            Self::RemoveUsers(_) => Operation::RemoveUsers,
            Self::AddClients(_) => Operation::AddClients,
            Self::RemoveClients(_) => Operation::RemoveClients,
            Self::SelfRemoveClient(_) => Operation::SelfRemoveClient,
            Self::UpdateClient(_) => Operation::UpdateClient,
            Self::ExternalJoin(_) => Operation::ExternalJoin,
            Self::SendMessage(_) => Operation::SendMessage,
            Self::SignaturePublicKey => Operation::SignaturePublicKey,
            Self::KeyPackages(_) => Operation::KeyPackages,
            Self::ConnectionKeyPackages(_) => Operation::ConnectionKeyPackages,
            Self::WelcomeInfo(_) => Operation::WelcomeInfo,
            Self::ExternalCommitInfo(_) => Operation::ExternalCommitInfo,
            Self::UserKeyPackages(_) => Operation::UserKeyPackages,
        }
    }

    /// The MLS message whose header names the group this request is about,
    /// for operations that carry one.
    pub fn group_message(&self) -> Option<&[u8]> {
        match self {
            Self::DeleteGroup(r)
            | Self::RemoveUsers(r)
            | Self::RemoveClients(r)
            | Self::UpdateClient(r)
            | Self::ExternalJoin(r) => Some(r.group_update.commit.as_slice()),
            Self::AddUsers(r) | Self::AddClients(r) => Some(r.group_update.commit.as_slice()),
            Self::SelfRemoveClient(r) => Some(r.proposal.as_slice()),
            Self::SendMessage(r) => Some(r.application_message.as_slice()),
            _ => None,
        }
    }
}
