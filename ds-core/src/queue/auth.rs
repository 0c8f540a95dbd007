//! Authentication of queue requests: a labeled Ed25519 signature by the
//! client's registered key over the request, its client id, a timestamp and
//! a nonce. Freshness is checked here against the caller's clock; that a
//! nonce is new within the window is the caller's (storage's) business.

use openmls::prelude::{OpenMlsCrypto, SignContent, SignatureScheme};
use openmls_rust_crypto::RustCrypto;
use openmls_traits::signatures::Signer;
use tls_codec::Serialize;

use crate::wire::{
    ClientId, DsError, DsErrorCode, ProtocolVersion, QS_REQUEST_LABEL, QsAuth, QsRequest,
    QsRequestBody, ShortBytes, qs_request_tbs,
};

/// Shortest nonce accepted (128 bits of randomness).
pub const MIN_NONCE_LEN: usize = 16;
/// Longest nonce accepted.
pub const MAX_NONCE_LEN: usize = 32;

/// Why a client could not sign a request.
#[derive(Debug, thiserror::Error)]
pub enum QsAuthError {
    /// The request could not be encoded (a bound was exceeded).
    #[error("the request could not be encoded: {0}")]
    Encoding(#[from] tls_codec::Error),
    /// The signer failed.
    #[error("signing failed: {0:?}")]
    Signer(openmls_traits::signatures::SignerError),
    /// The nonce length is outside 16..=32 bytes, or the signature too long.
    #[error("nonce or signature of invalid length")]
    Length,
}

/// The bytes signed for a queue request:
/// `SignContent { "MLS 1.0 " + QS_REQUEST_LABEL, QSRequestTBS }`.
pub fn qs_signature_content(
    version: ProtocolVersion,
    body: &QsRequestBody,
    client_id: &ClientId,
    timestamp: u64,
    nonce: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let tbs = qs_request_tbs(version, body, client_id, timestamp, nonce)?;
    SignContent::new(QS_REQUEST_LABEL, tbs.into()).tls_serialize_detached()
}

/// Builds a signed version-1 queue request (what a client sends).
pub fn sign_qs_request(
    body: QsRequestBody,
    client_id: ClientId,
    timestamp: u64,
    nonce: Vec<u8>,
    signer: &impl Signer,
) -> Result<QsRequest, QsAuthError> {
    let nonce = checked_nonce(nonce)?;
    let version = ProtocolVersion::V1;
    let content = qs_signature_content(version, &body, &client_id, timestamp, &nonce)?;
    let signature = sign_content(&content, signer)?;
    Ok(QsRequest {
        version,
        body,
        auth: QsAuth {
            client_id,
            timestamp,
            nonce,
            signature,
        },
    })
}

/// Checks a queue request's nonce length, freshness (`|timestamp - now| <=
/// window_secs`) and Ed25519 signature under `key` (the client's registered
/// key; for `register_client`, the key being registered).
pub fn verify_qs_request(
    request: &QsRequest,
    key: &[u8],
    now_unix: u64,
    window_secs: u64,
) -> Result<(), DsError> {
    let auth = &request.auth;
    check_nonce_and_freshness(auth.nonce.as_slice(), auth.timestamp, now_unix, window_secs)?;
    let content = qs_signature_content(
        request.version,
        &request.body,
        &auth.client_id,
        auth.timestamp,
        &auth.nonce,
    )
    .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))?;
    verify_registered_signature(&content, key, auth.signature.as_slice(), &auth.client_id)
}

/// The checks shared by every request signed with a registered key (queue
/// requests and `RegisteredClient` DS requests), before the signature: the
/// nonce is 16 to 32 bytes (`MalformedMessage`) and the timestamp within
/// `window_secs` of `now_unix` (`StaleRequest`).
pub fn check_nonce_and_freshness(
    nonce: &[u8],
    timestamp: u64,
    now_unix: u64,
    window_secs: u64,
) -> Result<(), DsError> {
    let nonce_len = nonce.len();
    if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce_len) {
        return Err(DsError::new(
            DsErrorCode::MalformedMessage,
            format!("nonce of {nonce_len} bytes; expected {MIN_NONCE_LEN} to {MAX_NONCE_LEN}"),
        ));
    }
    if timestamp.abs_diff(now_unix) > window_secs {
        return Err(DsError::new(
            DsErrorCode::StaleRequest,
            format!(
                "request time {timestamp} is more than {window_secs} s from the server's {now_unix}"
            ),
        ));
    }
    Ok(())
}

/// Verifies an Ed25519 signature over labeled `content` under `client_id`'s
/// registered `key` (`InvalidRequestSignature`).
pub(crate) fn verify_registered_signature(
    content: &[u8],
    key: &[u8],
    signature: &[u8],
    client_id: &ClientId,
) -> Result<(), DsError> {
    RustCrypto::default()
        .verify_signature(SignatureScheme::ED25519, content, key, signature)
        .map_err(|_| {
            DsError::new(
                DsErrorCode::InvalidRequestSignature,
                format!(
                    "the request's signature does not verify under {client_id}'s registered key"
                ),
            )
        })
}

/// A nonce of the accepted length, or [`QsAuthError::Length`].
pub(crate) fn checked_nonce(nonce: Vec<u8>) -> Result<ShortBytes, QsAuthError> {
    if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len()) {
        return Err(QsAuthError::Length);
    }
    ShortBytes::new(nonce).map_err(|_| QsAuthError::Length)
}

/// Signs `content` with `signer`, as a `signature<0..255>`.
pub(crate) fn sign_content(
    content: &[u8],
    signer: &impl Signer,
) -> Result<ShortBytes, QsAuthError> {
    let signature = signer.sign(content).map_err(QsAuthError::Signer)?;
    ShortBytes::new(signature).map_err(|_| QsAuthError::Length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{KeyPackageCountRequest, KeyPackageKind};
    use openmls_basic_credential::SignatureKeyPair;

    fn body() -> QsRequestBody {
        QsRequestBody::KeyPackageCount(KeyPackageCountRequest {
            kind: KeyPackageKind::Regular,
        })
    }

    fn signed(keys: &SignatureKeyPair, timestamp: u64, nonce: Vec<u8>) -> QsRequest {
        let client = ClientId::new("alice@example.org/phone").unwrap();
        sign_qs_request(body(), client, timestamp, nonce, keys).unwrap()
    }

    #[test]
    fn a_fresh_signed_request_verifies_and_round_trips() {
        let keys = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let request = signed(&keys, 1_000, vec![7; 16]);
        verify_qs_request(&request, keys.public(), 1_010, 300).unwrap();
        let decoded = QsRequest::decode(&request.encode().unwrap()).unwrap();
        assert_eq!(decoded, request);
    }

    #[test]
    fn stale_forged_and_short_nonce_requests_are_refused() {
        let keys = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let other = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
        let request = signed(&keys, 1_000, vec![7; 16]);
        let code = |r: Result<(), DsError>| r.unwrap_err().code;
        assert_eq!(
            code(verify_qs_request(&request, keys.public(), 1_301, 300)),
            DsErrorCode::StaleRequest
        );
        assert_eq!(
            code(verify_qs_request(&request, other.public(), 1_000, 300)),
            DsErrorCode::InvalidRequestSignature
        );
        let mut tampered = request.clone();
        tampered.auth.timestamp += 1;
        assert_eq!(
            code(verify_qs_request(&tampered, keys.public(), 1_000, 300)),
            DsErrorCode::InvalidRequestSignature
        );
        let mut short = request;
        short.auth.nonce = ShortBytes::new(vec![1; 8]).unwrap();
        assert_eq!(
            code(verify_qs_request(&short, keys.public(), 1_000, 300)),
            DsErrorCode::MalformedMessage
        );
        assert!(matches!(
            sign_qs_request(
                body(),
                ClientId::new("a@b/c").unwrap(),
                0,
                vec![0; 8],
                &keys
            ),
            Err(QsAuthError::Length)
        ));
    }
}
