//! `RegisteredClient` authentication of DS requests (spec §7.4): the
//! requesting client signs the request with the key it registered at its home
//! DS (the queue service's key, spec §13.3), with a timestamp and a nonce, as
//! queue requests are signed. This module signs (client side) and checks the
//! signature and freshness (DS side); that the client is registered, which
//! key it registered, and that the nonce is new are the caller's business.

use openmls::prelude::SignContent;
use openmls_traits::signatures::Signer;
use tls_codec::Serialize;

use super::auth::{
    QsAuthError, check_nonce_and_freshness, checked_nonce, sign_content,
    verify_registered_signature,
};
use crate::wire::{
    ClientId, DsAuthData, DsError, DsErrorCode, DsRequest, DsRequestBody, ProtocolVersion,
    REGISTERED_CLIENT_LABEL, RegisteredClientSignature, ShortBytes, registered_client_tbs,
};

/// The bytes signed for `RegisteredClient`:
/// `SignContent { "MLS 1.0 " + REGISTERED_CLIENT_LABEL, RegisteredClientTBS }`.
pub fn registered_client_content(
    version: ProtocolVersion,
    body: &DsRequestBody,
    client_id: &ClientId,
    timestamp: u64,
    nonce: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let tbs = registered_client_tbs(version, body, client_id, timestamp, nonce)?;
    SignContent::new(REGISTERED_CLIENT_LABEL, tbs.into()).tls_serialize_detached()
}

/// Builds a version-1 DS request authenticated as `client_id` with its
/// registered key (what a client sends). `nonce` must be 16 to 32 fresh
/// random bytes.
pub fn sign_registered_request(
    body: DsRequestBody,
    client_id: ClientId,
    timestamp: u64,
    nonce: Vec<u8>,
    signer: &impl Signer,
) -> Result<DsRequest, QsAuthError> {
    let nonce = checked_nonce(nonce)?;
    let version = ProtocolVersion::V1;
    let content = registered_client_content(version, &body, &client_id, timestamp, &nonce)?;
    let signature = sign_content(&content, signer)?;
    Ok(DsRequest {
        version,
        body,
        auth: DsAuthData::RegisteredClient(RegisteredClientSignature {
            client_id,
            timestamp,
            nonce,
            signature,
        }),
    })
}

/// Checks a request's `RegisteredClient` authentication: nonce length
/// (`MalformedMessage`), freshness (`|timestamp - now| <= window_secs`,
/// `StaleRequest`) and the Ed25519 signature under `key`, the client's
/// registered key (`InvalidRequestSignature`). Returns the authenticated
/// client; a request with another auth type is `WrongAuthType`.
pub fn verify_registered_client<'a>(
    request: &'a DsRequest,
    key: &[u8],
    now_unix: u64,
    window_secs: u64,
) -> Result<&'a ClientId, DsError> {
    let DsAuthData::RegisteredClient(auth) = &request.auth else {
        return Err(DsError::new(
            DsErrorCode::WrongAuthType,
            "the request is not authenticated by a registered client",
        ));
    };
    check_nonce_and_freshness(auth.nonce.as_slice(), auth.timestamp, now_unix, window_secs)?;
    let content = registered_client_content(
        request.version,
        &request.body,
        &auth.client_id,
        auth.timestamp,
        &auth.nonce,
    )
    .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))?;
    verify_registered_signature(&content, key, auth.signature.as_slice(), &auth.client_id)?;
    Ok(&auth.client_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{
        ExternalCommitInfoRequest, GroupId, KeyPackagesRequest, List, QS_REQUEST_LABEL,
    };
    use openmls::prelude::SignatureScheme;
    use openmls_basic_credential::SignatureKeyPair;

    const CLIENT: &str = "bob@ds-b.example/laptop";

    fn body() -> DsRequestBody {
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: GroupId::new("g1@ds-a.example").unwrap(),
        })
    }

    fn keys() -> SignatureKeyPair {
        SignatureKeyPair::new(SignatureScheme::ED25519).unwrap()
    }

    fn signed(keys: &SignatureKeyPair, timestamp: u64) -> DsRequest {
        let client = ClientId::new(CLIENT).unwrap();
        sign_registered_request(body(), client, timestamp, vec![9; 16], keys).unwrap()
    }

    fn code(r: Result<&ClientId, DsError>) -> DsErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn a_fresh_request_verifies_round_trips_and_names_its_client() {
        let keys = keys();
        let request = signed(&keys, 5_000);
        let client = verify_registered_client(&request, keys.public(), 4_900, 300).unwrap();
        assert_eq!(client.as_str(), CLIENT);
        let decoded = DsRequest::decode(&request.encode().unwrap()).unwrap();
        assert_eq!(decoded, request);
        verify_registered_client(&decoded, keys.public(), 5_300, 300).unwrap();
    }

    #[test]
    fn stale_requests_are_refused_on_both_sides_of_the_window() {
        let keys = keys();
        let request = signed(&keys, 5_000);
        for now in [5_301, 4_699, 0, u64::MAX] {
            assert_eq!(
                code(verify_registered_client(&request, keys.public(), now, 300)),
                DsErrorCode::StaleRequest,
                "now = {now}"
            );
        }
    }

    #[test]
    fn forged_and_altered_requests_are_refused() {
        let keys = keys();
        let request = signed(&keys, 5_000);
        // Another key (e.g. another client's, or an impostor's).
        assert_eq!(
            code(verify_registered_client(
                &request,
                self::keys().public(),
                5_000,
                300
            )),
            DsErrorCode::InvalidRequestSignature
        );
        // Every signed field matters: client id, timestamp, nonce, body.
        let mut other_client = request.clone();
        let mut other_time = request.clone();
        let mut other_nonce = request.clone();
        if let DsAuthData::RegisteredClient(a) = &mut other_client.auth {
            a.client_id = ClientId::new("eve@ds-b.example/tablet").unwrap();
        }
        if let DsAuthData::RegisteredClient(a) = &mut other_time.auth {
            a.timestamp += 1;
        }
        if let DsAuthData::RegisteredClient(a) = &mut other_nonce.auth {
            a.nonce = ShortBytes::new(vec![8; 16]).unwrap();
        }
        let mut other_body = request.clone();
        other_body.body = DsRequestBody::KeyPackages(KeyPackagesRequest {
            client_ids: List::new(vec![ClientId::new(CLIENT).unwrap()]).unwrap(),
        });
        for forged in [other_client, other_time, other_nonce, other_body] {
            assert_eq!(
                code(verify_registered_client(&forged, keys.public(), 5_000, 300)),
                DsErrorCode::InvalidRequestSignature,
                "{forged:?}"
            );
        }
        // The same TBS signed under the queue label is not a RegisteredClient signature.
        let DsAuthData::RegisteredClient(auth) = &request.auth else {
            unreachable!()
        };
        let tbs = registered_client_tbs(
            request.version,
            &request.body,
            &auth.client_id,
            auth.timestamp,
            &auth.nonce,
        )
        .unwrap();
        let content = SignContent::new(QS_REQUEST_LABEL, tbs.into())
            .tls_serialize_detached()
            .unwrap();
        let mut cross = request.clone();
        if let DsAuthData::RegisteredClient(a) = &mut cross.auth {
            a.signature = ShortBytes::new(keys.sign(&content).unwrap()).unwrap();
        }
        assert_eq!(
            code(verify_registered_client(&cross, keys.public(), 5_000, 300)),
            DsErrorCode::InvalidRequestSignature
        );
    }

    #[test]
    fn bad_nonces_and_other_auth_types_are_refused() {
        let keys = keys();
        let mut short = signed(&keys, 5_000);
        if let DsAuthData::RegisteredClient(a) = &mut short.auth {
            a.nonce = ShortBytes::new(vec![1; 15]).unwrap();
        }
        assert_eq!(
            code(verify_registered_client(&short, keys.public(), 5_000, 300)),
            DsErrorCode::MalformedMessage
        );
        let client = || ClientId::new(CLIENT).unwrap();
        for len in [0, 15, 33] {
            assert!(matches!(
                sign_registered_request(body(), client(), 0, vec![0; len], &keys),
                Err(QsAuthError::Length)
            ));
        }
        let anonymous = DsRequest {
            version: ProtocolVersion::V1,
            body: body(),
            auth: DsAuthData::Anonymous,
        };
        assert_eq!(
            code(verify_registered_client(&anonymous, keys.public(), 0, 300)),
            DsErrorCode::WrongAuthType
        );
    }
}
