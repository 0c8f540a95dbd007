//! Every message of the protocol as Rust types with `tls_codec`.
//!
//! Decoding is strict: the version is checked first, every length is bounded
//! ([`limits`]), unknown enum values and trailing bytes are errors, and no
//! input can make a decoder panic. MLS structures inside our messages are
//! carried as `opaque<V>` holding their RFC 9420 encoding; the group engine
//! parses them with openmls's untrusted (`*In`) types and validates them.
//! A decoded value here is syntactically valid only: nothing in it has been
//! authenticated.

pub mod auth;
pub mod codec;
pub mod decode;
pub mod error;
pub mod fanout;
pub mod group_update;
pub mod ids;
pub mod key_package;
pub mod limits;
pub mod mls_header;
pub mod queue;
pub mod request;
pub mod response;
pub mod version;
pub mod voucher;

pub use auth::{
    CLIENT_SIGNATURE_LABEL, ClientSignature, DsAuthData, JOINER_SIGNATURE_LABEL, JoinerSignature,
    REGISTERED_CLIENT_LABEL, RegisteredClientSignature, VOUCHED_CLIENT_LABEL,
    VouchedClientSignature, client_signature_tbs, joiner_signature_tbs, registered_client_tbs,
    vouched_client_tbs,
};
pub use codec::{Bytes, List, ShortBytes};
pub use decode::WireError;
pub use error::{DsError, DsErrorCode};
pub use fanout::{
    DsFanoutEntry, DsFanoutRecipient, DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody,
    FanoutEntryKind,
};
pub use group_update::{MlsBytes, MlsGroupUpdate, PartialGroupInfo};
pub use ids::{ClientId, Domain, GroupId, IdError, UserId};
pub use key_package::DsKeyPackage;
pub use mls_header::{MlsHeader, peek_header};
pub use queue::{
    AckRequest, GroupLogEntry, GroupPosition, InboxMessage, KeyPackageCountRequest, KeyPackageKind,
    KeyPackageUpload, PageEnd, PublishKeyPackagesRequest, QS_REQUEST_LABEL, QsAuth, QsRequest,
    QsRequestBody, QsResponse, QsResponseBody, QueuePage, QueuePositions, RegisterClientRequest,
    SIGNATURE_SCHEME_ED25519, SyncRequest, qs_request_tbs,
};
pub use request::{
    AddRequest, ConnectionKeyPackagesRequest, CreateGroupRequest, DsRequest, DsRequestBody,
    ExternalCommitInfoRequest, GroupKind, GroupUpdateRequest, KeyPackagesRequest, Operation,
    SelfRemoveClientRequest, SendMessageRequest, UserKeyPackagesRequest, WelcomeInfoRequest,
};
pub use response::{
    DsResponse, DsResponseBody, DsSigningKey, ExternalCommitInfo, KeyPackages, RatchetTreeBytes,
    SignaturePublicKeys, WelcomeInfo,
};
pub use version::ProtocolVersion;
pub use voucher::{CLIENT_VOUCHER_LABEL, ClientVoucher, VOUCHER_EXTENSION_TYPE};

impl DsRequest {
    /// The group this request is about: named in the body, or read from the
    /// header of its MLS message. `None` for operations without a group, or
    /// when the header is malformed (the engine then rejects the request).
    pub fn group_id(&self) -> Option<GroupId> {
        match &self.body {
            DsRequestBody::CreateGroup(r) => Some(r.group_id.clone()),
            DsRequestBody::WelcomeInfo(r) => Some(r.group_id.clone()),
            DsRequestBody::ExternalCommitInfo(r) => Some(r.group_id.clone()),
            body => {
                let header = peek_header(body.group_message()?)?;
                GroupId::from_bytes(&header.group_id).ok()
            }
        }
    }
}
