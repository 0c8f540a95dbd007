//! `ClientVoucher`: a home DS's signed statement that a client of its domain
//! registered a signature key. Carried in a LeafNode extension of the
//! client's key packages and leaves, and in `VouchedClient` requests, so an
//! owning DS of another domain can check a foreign client without asking
//! its home DS (spec §11.4).

use tls_codec::{Serialize, TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::{Bytes, ShortBytes};
use super::ids::{ClientId, Domain};
use super::limits::MAX_PUBLIC_KEY;

/// The LeafNode extension type that carries a TLS-encoded [`ClientVoucher`]
/// (from the MLS private-use range 0xF000-0xFFFF). A leaf that carries it
/// must list it in its capabilities, as RFC 9420 requires.
pub const VOUCHER_EXTENSION_TYPE: u16 = 0xF1D5;

/// The label prefixed to `ClientVoucherTBS` before signing.
pub const CLIENT_VOUCHER_LABEL: &[u8] = b"MIMI DS ClientVoucher\0";

/// `ClientVoucher`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ClientVoucher {
    /// The home DS that signs: the domain of `client_id`.
    pub issuer: Domain,
    /// Which of the issuer's DS signing keys signed (`signature_public_key`).
    pub key_id: ShortBytes,
    /// The client.
    pub client_id: ClientId,
    /// TLS SignatureScheme of `signature_key` (0x0807, Ed25519).
    pub signature_scheme: u16,
    /// The client's registered signature key: the key of its MLS leaves.
    pub signature_key: Bytes<MAX_PUBLIC_KEY>,
    /// Unix seconds after which the voucher is refused.
    pub not_after: u64,
    /// Ed25519 signature by the issuer's key over `ClientVoucherTBS`.
    pub signature: ShortBytes,
}

impl ClientVoucher {
    /// The bytes the signature covers: the label, then every field but the signature.
    pub fn signed_content(&self) -> Result<Vec<u8>, tls_codec::Error> {
        let mut out = CLIENT_VOUCHER_LABEL.to_vec();
        self.issuer.tls_serialize(&mut out)?;
        self.key_id.tls_serialize(&mut out)?;
        self.client_id.tls_serialize(&mut out)?;
        self.signature_scheme.tls_serialize(&mut out)?;
        self.signature_key.tls_serialize(&mut out)?;
        self.not_after.tls_serialize(&mut out)?;
        Ok(out)
    }
}
