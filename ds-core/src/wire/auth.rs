//! `DSAuthData` and `ClientSignatureTBS`.

use tls_codec::{Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::ShortBytes;
use super::request::DsRequestBody;
use super::version::ProtocolVersion;

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
