//! `DSProtocolVersion`: the first field of every request and response.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

/// A protocol version number (`uint16`).
///
/// Version 1 is the only one defined. A peer that receives a version it does
/// not speak answers `UnsupportedVersion` without reading further.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// The version this implementation speaks.
    pub const V1: ProtocolVersion = ProtocolVersion(1);

    /// Whether this implementation speaks `self`.
    pub fn is_supported(self) -> bool {
        self == Self::V1
    }
}
