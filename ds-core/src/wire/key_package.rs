//! `DSKeyPackage`: a key package as served by a client's home DS.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::group_update::MlsBytes;

/// A key package in one of the forms the protocol knows.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum DsKeyPackage {
    /// An MLSMessage holding an RFC 9420 KeyPackage.
    #[tls_codec(discriminant = 0)]
    MlsKeyPackage(MlsBytes),
}
