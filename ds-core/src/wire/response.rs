//! `DSResponse`: the DS's answer to a `DSRequest`.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::{Bytes, List, ShortBytes};
use super::error::DsError;
use super::group_update::MlsBytes;
use super::ids::GroupId;
use super::key_package::DsKeyPackage;
use super::limits::{
    MAX_DS_KEYS, MAX_KEY_PACKAGES, MAX_PENDING_PROPOSALS, MAX_PUBLIC_KEY, MAX_RATCHET_TREE,
};
use super::version::ProtocolVersion;

/// A TLS-encoded ratchet tree (`optional<Node> ratchet_tree<V>`) carried as `opaque<V>`.
pub type RatchetTreeBytes = Bytes<MAX_RATCHET_TREE>;

/// The DS's answer.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct DsResponse {
    /// Protocol version (the request's).
    pub version: ProtocolVersion,
    /// The result.
    pub body: DsResponseBody,
}

/// What a joiner by Welcome needs besides the Welcome.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct WelcomeInfo {
    /// The ratchet tree of the epoch the joiner was added in.
    pub ratchet_tree: RatchetTreeBytes,
}

/// What an external committer needs.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ExternalCommitInfo {
    /// An MLSMessage holding the current signed GroupInfo (with `external_pub`).
    pub group_info: MlsBytes,
    /// The current ratchet tree.
    pub ratchet_tree: RatchetTreeBytes,
    /// MLSMessages of the proposals stored for the current epoch.
    pub proposals: List<MlsBytes, MAX_PENDING_PROPOSALS>,
}

/// One signing key of a DS.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DsSigningKey {
    /// Identifies the key in signed messages.
    pub key_id: ShortBytes,
    /// The TLS SignatureScheme (`0x0807` for Ed25519).
    pub signature_scheme: u16,
    /// The raw public key.
    pub public_key: Bytes<MAX_PUBLIC_KEY>,
    /// Unix seconds after which signatures by this key are no longer accepted;
    /// 0 for the current key.
    pub not_after: u64,
}

/// The DS's signing keys: the current one first, then retired keys still valid.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SignaturePublicKeys {
    /// The keys.
    pub keys: List<DsSigningKey, MAX_DS_KEYS>,
}

/// Key packages answered to a request.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyPackages {
    /// One per requested client, in request order.
    pub key_packages: List<DsKeyPackage, MAX_KEY_PACKAGES>,
}

/// `DSResponseBody`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum DsResponseBody {
    /// The operation succeeded and has nothing to return.
    #[tls_codec(discriminant = 0)]
    Ok,
    /// The operation was refused; nothing changed.
    #[tls_codec(discriminant = 1)]
    Error(DsError),
    /// A freshly allocated group id.
    #[tls_codec(discriminant = 2)]
    GroupId(GroupId),
    /// The ratchet tree for a joiner by Welcome.
    #[tls_codec(discriminant = 3)]
    WelcomeInfo(WelcomeInfo),
    /// What an external commit needs.
    #[tls_codec(discriminant = 4)]
    ExternalCommitInfo(ExternalCommitInfo),
    /// The DS's signing keys.
    #[tls_codec(discriminant = 5)]
    SignaturePublicKey(SignaturePublicKeys),
    /// Key packages.
    #[tls_codec(discriminant = 6)]
    KeyPackages(KeyPackages),
    /// Connection key packages.
    #[tls_codec(discriminant = 7)]
    ConnectionKeyPackages(KeyPackages),
}
