//! The client queue service (QS, spec §13): registration, sync and ack of the
//! group logs and the personal inbox, key-package publication, and the
//! opening message of the live-push channel. Every request is signed by the
//! client's registered key ([`QsAuth`]); see [`crate::queue`] for the checks.

use tls_codec::{Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::{Bytes, List, ShortBytes};
use super::error::DsError;
use super::group_update::MlsBytes;
use super::ids::{ClientId, GroupId};
use super::limits::{MAX_KEY_PACKAGES, MAX_PUBLIC_KEY, MAX_QUEUE_CURSORS, MAX_SYNC_ENTRIES};
use super::version::ProtocolVersion;
use super::voucher::ClientVoucher;

/// The label of the MLS `SignWithLabel` over [`qs_request_tbs`].
pub const QS_REQUEST_LABEL: &str = "MIMI QS Request";

/// TLS SignatureScheme of Ed25519, the only scheme of registered keys in v1.
pub const SIGNATURE_SCHEME_ED25519: u16 = 0x0807;

/// A request to the queue service.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct QsRequest {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// The operation.
    pub body: QsRequestBody,
    /// Who asks, when, and the signature.
    pub auth: QsAuth,
}

/// `QSRequestBody`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum QsRequestBody {
    /// Register `auth.client_id` with a request-signing key (signed by that key).
    #[tls_codec(discriminant = 0)]
    RegisterClient(RegisterClientRequest),
    /// Entries after the given positions.
    #[tls_codec(discriminant = 1)]
    Sync(SyncRequest),
    /// The client has everything up to these positions.
    #[tls_codec(discriminant = 2)]
    Ack(AckRequest),
    /// Add key packages to the client's pool.
    #[tls_codec(discriminant = 3)]
    PublishKeyPackages(PublishKeyPackagesRequest),
    /// How many key packages of a kind the client has left.
    #[tls_codec(discriminant = 4)]
    KeyPackageCount(KeyPackageCountRequest),
    /// First frame of the live-push channel: push everything after these
    /// positions, then every new entry as it is stored.
    #[tls_codec(discriminant = 5)]
    Subscribe(SyncRequest),
    /// Asks the home DS for a fresh voucher of the client's registered key
    /// (spec §11.4), to put into its leaves and `VouchedClient` requests.
    #[tls_codec(discriminant = 6)]
    ClientVoucher,
}

/// What a queue operation is called in logs and metrics.
impl QsRequestBody {
    /// A stable, lower-case name of the operation.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RegisterClient(_) => "register_client",
            Self::Sync(_) => "sync",
            Self::Ack(_) => "ack",
            Self::PublishKeyPackages(_) => "publish_key_packages",
            Self::KeyPackageCount(_) => "key_package_count",
            Self::Subscribe(_) => "subscribe",
            Self::ClientVoucher => "client_voucher",
        }
    }
}

/// `RegisterClientRequest`. The client id is `auth.client_id`; the request is
/// signed with `signature_key`, proving possession.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RegisterClientRequest {
    /// TLS SignatureScheme of `signature_key` (v1: Ed25519, `0x0807`).
    pub signature_scheme: u16,
    /// The raw public key every later request (and every key package's leaf)
    /// of the client is signed with.
    pub signature_key: Bytes<MAX_PUBLIC_KEY>,
    /// A one-time token from the operator; empty under the `open` policy.
    pub registration_token: ShortBytes,
}

/// The last position a client has in one group's log.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupPosition {
    /// The group.
    pub group_id: GroupId,
    /// The last sequence number the client has (0 = none).
    pub sequence: u64,
}

/// A client's positions: per group and in its inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct QueuePositions {
    /// Groups not listed start at the client's acknowledged position.
    pub groups: List<GroupPosition, MAX_QUEUE_CURSORS>,
    /// The last inbox sequence number the client has (0 = none).
    pub inbox: u64,
}

/// `SyncRequest` (also the body of `Subscribe`).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SyncRequest {
    /// Return entries after these positions (or after the acknowledged ones,
    /// whichever is later).
    pub after: QueuePositions,
    /// At most this many entries per page (the server may return fewer).
    pub max_entries: u32,
}

/// `AckRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct AckRequest {
    /// Positions the client has processed; they never move back.
    pub positions: QueuePositions,
}

/// Which pool a key package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum KeyPackageKind {
    /// For being added to groups (`ds_key_packages`).
    Regular = 0,
    /// For first contact (`ds_connection_key_packages`).
    Connection = 1,
}

/// One key package to publish.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyPackageUpload {
    /// The pool.
    pub kind: KeyPackageKind,
    /// An MLSMessage holding the KeyPackage. A key package with the RFC 9420
    /// `last_resort` extension becomes the pool's last-resort package.
    pub key_package: MlsBytes,
}

/// `PublishKeyPackagesRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct PublishKeyPackagesRequest {
    /// The key packages; all are validated before any is stored.
    pub key_packages: List<KeyPackageUpload, MAX_KEY_PACKAGES>,
}

/// `KeyPackageCountRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyPackageCountRequest {
    /// The pool to count.
    pub kind: KeyPackageKind,
}

/// `QSAuth`: every queue request is signed by the client's registered key.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct QsAuth {
    /// The requesting client (a client of the addressed DS).
    pub client_id: ClientId,
    /// Unix seconds when the request was made; outside the server's freshness
    /// window the request is refused.
    pub timestamp: u64,
    /// 16 to 32 random bytes, never reused by the client within the window.
    pub nonce: ShortBytes,
    /// `SignWithLabel(registered key, QS_REQUEST_LABEL, QSRequestTBS)`.
    pub signature: ShortBytes,
}

/// Encodes `struct { version; body; client_id; uint64 timestamp; opaque nonce<0..255>; } QSRequestTBS`.
pub fn qs_request_tbs(
    version: ProtocolVersion,
    body: &QsRequestBody,
    client_id: &ClientId,
    timestamp: u64,
    nonce: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out =
        Vec::with_capacity(body.tls_serialized_len() + client_id.tls_serialized_len() + 48);
    version.tls_serialize(&mut out)?;
    body.tls_serialize(&mut out)?;
    client_id.tls_serialize(&mut out)?;
    timestamp.tls_serialize(&mut out)?;
    nonce.tls_serialize(&mut out)?;
    Ok(out)
}

/// The queue service's answer.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct QsResponse {
    /// Protocol version (the request's).
    pub version: ProtocolVersion,
    /// The result.
    pub body: QsResponseBody,
}

/// `QSResponseBody`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum QsResponseBody {
    /// Done; nothing to return (register, ack).
    #[tls_codec(discriminant = 0)]
    Ok,
    /// Refused; nothing changed.
    #[tls_codec(discriminant = 1)]
    Error(DsError),
    /// Entries after the requested positions (sync, and every push frame).
    #[tls_codec(discriminant = 2)]
    Page(QueuePage),
    /// Key packages stored (publish) or left (count).
    #[tls_codec(discriminant = 3)]
    KeyPackageCount(u32),
    /// The home DS's voucher for the requesting client (`client_voucher`).
    #[tls_codec(discriminant = 4)]
    Voucher(ClientVoucher),
}

/// One entry of the client's personal inbox.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct InboxMessage {
    /// Its gap-free number in the client's inbox.
    pub sequence: u64,
    /// The MLSMessage (a Welcome).
    pub message: MlsBytes,
}

/// One entry of a group's log.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupLogEntry {
    /// The group.
    pub group_id: GroupId,
    /// Its gap-free number in the group's log; clients dedupe by (group, sequence).
    pub sequence: u64,
    /// The client that sent it; absent for the DS's own messages.
    pub sender: Option<ClientId>,
    /// The MLSMessage.
    pub message: MlsBytes,
}

/// A page of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct QueuePage {
    /// Inbox entries in order; processed first (a Welcome precedes its group's entries).
    pub inbox: List<InboxMessage, MAX_SYNC_ENTRIES>,
    /// Group entries in (group id, sequence) order.
    pub group_entries: List<GroupLogEntry, MAX_SYNC_ENTRIES>,
    /// Whether more entries wait after this page.
    pub end: PageEnd,
}

/// Whether a page holds everything up to now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum PageEnd {
    /// Nothing more waits (as of the read).
    #[default]
    Complete = 0,
    /// More entries wait: ask again from this page's last positions.
    More = 1,
}

impl QueuePage {
    /// Whether more entries wait after this page.
    pub fn has_more(&self) -> bool {
        self.end == PageEnd::More
    }
}
