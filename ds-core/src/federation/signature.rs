//! The `DSFanoutRequest` signature (spec §11.1): Ed25519 over the label and
//! every field before `signature`.

use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::SignatureScheme;

use super::keys::find_key;
use crate::wire::{DsError, DsErrorCode, DsFanoutRequest, DsSigningKey};

/// The bytes a fan-out signer signs (`DSFanoutRequestTBS`).
pub fn fanout_signing_content(request: &DsFanoutRequest) -> Result<Vec<u8>, DsError> {
    request
        .signed_content()
        .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))
}

/// Checks `request`'s signature under the key its `key_id` names among the
/// sender's published `keys` at time `now`: `UnknownSigningKey` when no
/// valid key has that id, `InvalidDsSignature` when it does not verify.
pub fn verify_fanout_signature(
    request: &DsFanoutRequest,
    keys: &[DsSigningKey],
    now: u64,
) -> Result<(), DsError> {
    let key = find_key(keys, request.key_id.as_slice(), now).ok_or_else(|| {
        DsError::new(
            DsErrorCode::UnknownSigningKey,
            format!(
                "{} publishes no valid signing key with id {}",
                request.sender,
                hex_id(request.key_id.as_slice())
            ),
        )
    })?;
    let content = fanout_signing_content(request)?;
    RustCrypto::default()
        .verify_signature(
            SignatureScheme::ED25519,
            &content,
            key.public_key.as_slice(),
            request.signature.as_slice(),
        )
        .map_err(|_| {
            DsError::new(
                DsErrorCode::InvalidDsSignature,
                format!(
                    "the fan-out signature does not verify under {}'s key {}",
                    request.sender,
                    hex_id(request.key_id.as_slice())
                ),
            )
        })
}

/// A key id for people (hex).
pub(crate) fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}
