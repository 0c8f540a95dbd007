//! Checking a [`ClientVoucher`] (spec §11.4): the client's home DS says that
//! this client registered this signature key.

use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::SignatureScheme;

use super::keys::find_key;
use super::signature::hex_id;
use crate::wire::{ClientVoucher, DsError, DsErrorCode, DsSigningKey, SIGNATURE_SCHEME_ED25519};

/// The bytes an issuer signs (`ClientVoucherTBS`).
pub fn voucher_signing_content(voucher: &ClientVoucher) -> Result<Vec<u8>, DsError> {
    voucher
        .signed_content()
        .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))
}

/// Checks that `voucher` is its home DS's for `client_id` and `signature_key`,
/// unexpired at `now`, and signed by one of the issuer's `issuer_keys`.
/// Every failure is `UnvouchedClient` with the reason.
pub fn check_voucher(
    voucher: &ClientVoucher,
    client_id: &str,
    signature_key: &[u8],
    issuer_keys: &[DsSigningKey],
    now: u64,
) -> Result<(), DsError> {
    let refuse = |why: String| DsError::new(DsErrorCode::UnvouchedClient, why);
    if voucher.client_id.as_str() != client_id {
        return Err(refuse(format!(
            "the voucher is for {}, not {client_id}",
            voucher.client_id
        )));
    }
    if voucher.issuer.as_str() != voucher.client_id.domain() {
        return Err(refuse(format!(
            "{} may not vouch for {}: only a client's home DS vouches for it",
            voucher.issuer, voucher.client_id
        )));
    }
    if voucher.signature_scheme != SIGNATURE_SCHEME_ED25519
        || voucher.signature_key.as_slice() != signature_key
    {
        return Err(refuse(format!(
            "the voucher of {client_id} is for another signature key"
        )));
    }
    if voucher.not_after < now {
        return Err(refuse(format!(
            "the voucher of {client_id} expired at {}",
            voucher.not_after
        )));
    }
    let key = find_key(issuer_keys, voucher.key_id.as_slice(), now).ok_or_else(|| {
        refuse(format!(
            "{} publishes no valid signing key with id {}",
            voucher.issuer,
            hex_id(voucher.key_id.as_slice())
        ))
    })?;
    let content = voucher_signing_content(voucher)?;
    RustCrypto::default()
        .verify_signature(
            SignatureScheme::ED25519,
            &content,
            key.public_key.as_slice(),
            voucher.signature.as_slice(),
        )
        .map_err(|_| {
            refuse(format!(
                "the voucher of {client_id} does not verify under {}'s key",
                voucher.issuer
            ))
        })
}
