//! `DSAuthData` and the to-be-signed structures of its signed cases.

use tls_codec::{Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::ShortBytes;
use super::ids::ClientId;
use super::request::DsRequestBody;
use super::version::ProtocolVersion;
use super::voucher::ClientVoucher;

/// How a request is authenticated.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum DsAuthData {
    /// No authentication (or authentication by the transport, see the spec).
    #[tls_codec(discriminant = 0)]
    Anonymous,
    /// A signature by the member at `sender_index` over [`client_signature_tbs`].
    #[tls_codec(discriminant = 1)]
    ClientSignature(ClientSignature),
    /// A signature by a client added by Welcome that has no tree yet and so
    /// does not know its leaf index: it names the key package it was added
    /// with instead (used by `welcome_info`).
    #[tls_codec(discriminant = 2)]
    JoinerSignature(JoinerSignature),
    /// A signature by the requesting client's key registered at its home DS
    /// (the addressed DS), with a timestamp and a nonce against replay (used
    /// by `external_commit_info`, and optionally by the key-package fetches).
    #[tls_codec(discriminant = 3)]
    RegisteredClient(RegisteredClientSignature),
    /// A client of another domain, vouched for by its home DS (spec §7.5).
    #[tls_codec(discriminant = 4)]
    VouchedClient(VouchedClientSignature),
}

/// The `RegisteredClient` case of `DSAuthData`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RegisteredClientSignature {
    /// The requesting client, registered at the addressed DS.
    pub client_id: ClientId,
    /// Unix seconds when the request was made (checked against the DS's
    /// freshness window).
    pub timestamp: u64,
    /// 16 to 32 random bytes, never reused by the client within the window.
    pub nonce: ShortBytes,
    /// `SignWithLabel(registered key, REGISTERED_CLIENT_LABEL, RegisteredClientTBS)`.
    pub signature: ShortBytes,
}

/// The label of the MLS `SignWithLabel` used for `RegisteredClient`.
pub const REGISTERED_CLIENT_LABEL: &str = "MIMI DS RegisteredClient";

/// Encodes `struct { version; request_body; ClientID client_id; uint64
/// timestamp; opaque nonce<0..255>; } RegisteredClientTBS`.
pub fn registered_client_tbs(
    version: ProtocolVersion,
    body: &DsRequestBody,
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

/// The `JoinerSignature` case of `DSAuthData`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct JoinerSignature {
    /// The KeyPackageRef (RFC 9420 §5.2) of the key package the joiner was added with.
    pub key_package_ref: ShortBytes,
    /// `SignWithLabel(key package's leaf key, JOINER_SIGNATURE_LABEL, JoinerSignatureTBS)`.
    pub signature: ShortBytes,
}

/// The label of the MLS `SignWithLabel` used for `JoinerSignature`.
pub const JOINER_SIGNATURE_LABEL: &str = "MIMI DS JoinerSignature";

/// Encodes `struct { version; request_body; opaque key_package_ref<0..255>; } JoinerSignatureTBS`.
pub fn joiner_signature_tbs(
    version: ProtocolVersion,
    body: &DsRequestBody,
    key_package_ref: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out = Vec::with_capacity(body.tls_serialized_len() + 40);
    version.tls_serialize(&mut out)?;
    body.tls_serialize(&mut out)?;
    key_package_ref.tls_serialize(&mut out)?;
    Ok(out)
}

/// The `ClientSignature` case of `DSAuthData`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ClientSignature {
    /// Leaf index of the signer in the group's current tree.
    pub sender_index: u32,
    /// `SignWithLabel(leaf key, CLIENT_SIGNATURE_LABEL, ClientSignatureTBS)`.
    pub signature: ShortBytes,
}

/// The label of the MLS `SignWithLabel` used for `ClientSignature`
/// (RFC 9420 §5.1.2 prefixes it with "MLS 1.0 ").
pub const CLIENT_SIGNATURE_LABEL: &str = "MIMI DS ClientSignature";

/// Encodes `struct { version; request_body; uint32 sender_index; } ClientSignatureTBS`.
pub fn client_signature_tbs(
    version: ProtocolVersion,
    body: &DsRequestBody,
    sender_index: u32,
) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out = Vec::with_capacity(body.tls_serialized_len() + 6);
    version.tls_serialize(&mut out)?;
    body.tls_serialize(&mut out)?;
    sender_index.tls_serialize(&mut out)?;
    Ok(out)
}

/// `VouchedClientSignature`: a request by a client of another domain than
/// the addressed DS's, signed with the key its home DS vouches for.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct VouchedClientSignature {
    /// The home DS's voucher for the client and its key.
    pub voucher: ClientVoucher,
    /// Unix seconds when the request was made.
    pub timestamp: u64,
    /// 16 to 32 random bytes, never reused by the client within the window.
    pub nonce: ShortBytes,
    /// `SignWithLabel(voucher.signature_key, VOUCHED_CLIENT_LABEL, VouchedClientTBS)`.
    pub signature: ShortBytes,
}

/// The `SignWithLabel` label of a [`VouchedClientSignature`].
pub const VOUCHED_CLIENT_LABEL: &str = "MIMI DS VouchedClient";

/// Encodes `struct { version; request_body; ClientVoucher voucher; uint64 timestamp;
/// opaque nonce<0..255>; } VouchedClientTBS`.
pub fn vouched_client_tbs(
    version: ProtocolVersion,
    body: &DsRequestBody,
    voucher: &ClientVoucher,
    timestamp: u64,
    nonce: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let mut out = Vec::with_capacity(body.tls_serialized_len() + voucher.tls_serialized_len() + 48);
    version.tls_serialize(&mut out)?;
    body.tls_serialize(&mut out)?;
    voucher.tls_serialize(&mut out)?;
    timestamp.tls_serialize(&mut out)?;
    nonce.tls_serialize(&mut out)?;
    Ok(out)
}
