//! `VouchedClient` authentication of DS requests (spec §7.5): a client of
//! another domain signs with the key its home DS vouches for in a
//! [`ClientVoucher`], with a timestamp and a nonce. This module signs (client
//! side) and checks operation, domain, freshness, voucher and signature (DS
//! side); fetching the issuer's keys and the nonce store are the caller's.

use openmls::prelude::SignContent;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::signatures::Signer;
use openmls_traits::types::SignatureScheme;
use tls_codec::Serialize;

use super::auth::{QsAuthError, check_nonce_and_freshness, checked_nonce, sign_content};
use crate::federation::check_voucher;
use crate::group::accepts_vouched_client;
use crate::wire::{
    ClientId, ClientVoucher, Domain, DsAuthData, DsError, DsErrorCode, DsRequest, DsRequestBody,
    DsSigningKey, ProtocolVersion, ShortBytes, VOUCHED_CLIENT_LABEL, VouchedClientSignature,
    vouched_client_tbs,
};

/// The bytes signed for `VouchedClient`:
/// `SignContent { "MLS 1.0 " + VOUCHED_CLIENT_LABEL, VouchedClientTBS }`.
pub fn vouched_client_content(
    version: ProtocolVersion,
    body: &DsRequestBody,
    voucher: &ClientVoucher,
    timestamp: u64,
    nonce: &ShortBytes,
) -> Result<Vec<u8>, tls_codec::Error> {
    let tbs = vouched_client_tbs(version, body, voucher, timestamp, nonce)?;
    SignContent::new(VOUCHED_CLIENT_LABEL, tbs.into()).tls_serialize_detached()
}

/// Builds a version-1 DS request authenticated by `voucher`'s client with
/// the vouched key (what a client sends to another domain's DS). `nonce`
/// must be 16 to 32 fresh random bytes; `signer` holds the vouched key.
pub fn sign_vouched_request(
    body: DsRequestBody,
    voucher: ClientVoucher,
    timestamp: u64,
    nonce: Vec<u8>,
    signer: &impl Signer,
) -> Result<DsRequest, QsAuthError> {
    let nonce = checked_nonce(nonce)?;
    let version = ProtocolVersion::V1;
    let content = vouched_client_content(version, &body, &voucher, timestamp, &nonce)?;
    let signature = sign_content(&content, signer)?;
    Ok(DsRequest {
        version,
        body,
        auth: DsAuthData::VouchedClient(VouchedClientSignature {
            voucher,
            timestamp,
            nonce,
            signature,
        }),
    })
}

/// Checks a request's `VouchedClient` authentication at the DS of domain
/// `own`, in the order of spec §7.5: the operation accepts it and the client
/// is of another domain (`WrongAuthType`), the nonce length
/// (`MalformedMessage`) and freshness (`StaleRequest`), the voucher against
/// its issuer's published `issuer_keys` (`UnvouchedClient`), and the
/// signature under the vouched key (`InvalidRequestSignature`). Returns the
/// authenticated client; that the nonce is new is the caller's business.
pub fn verify_vouched_client<'a>(
    request: &'a DsRequest,
    issuer_keys: &[DsSigningKey],
    own: &Domain,
    now: u64,
    window_secs: u64,
) -> Result<&'a ClientId, DsError> {
    let op = request.body.operation();
    let auth = match &request.auth {
        DsAuthData::VouchedClient(auth) if accepts_vouched_client(op) => auth,
        _ => {
            return Err(DsError::new(
                DsErrorCode::WrongAuthType,
                format!(
                    "{} does not take this request's VouchedClient authentication",
                    op.name()
                ),
            ));
        }
    };
    let voucher = &auth.voucher;
    let client_id = &voucher.client_id;
    if client_id.domain() == own.as_str() {
        return Err(DsError::new(
            DsErrorCode::WrongAuthType,
            format!("{client_id} is a client of this DS: it authenticates as RegisteredClient"),
        ));
    }
    check_nonce_and_freshness(auth.nonce.as_slice(), auth.timestamp, now, window_secs)?;
    check_voucher(
        voucher,
        client_id.as_str(),
        voucher.signature_key.as_slice(),
        issuer_keys,
        now,
    )?;
    let content = vouched_client_content(
        request.version,
        &request.body,
        voucher,
        auth.timestamp,
        &auth.nonce,
    )
    .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))?;
    RustCrypto::default()
        .verify_signature(
            SignatureScheme::ED25519,
            &content,
            voucher.signature_key.as_slice(),
            auth.signature.as_slice(),
        )
        .map_err(|_| {
            DsError::new(
                DsErrorCode::InvalidRequestSignature,
                format!("the request's signature does not verify under {client_id}'s vouched key"),
            )
        })?;
    Ok(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::voucher_signing_content;
    use crate::wire::{
        Bytes, ExternalCommitInfoRequest, GroupId, KeyPackagesRequest, List,
        SIGNATURE_SCHEME_ED25519,
    };
    use openmls_basic_credential::SignatureKeyPair;

    const CLIENT: &str = "bob@ds-b.example/laptop";
    const NOW: u64 = 1_800_000_000;

    fn own() -> Domain {
        Domain::new("ds-a.example").unwrap()
    }

    fn body() -> DsRequestBody {
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: GroupId::new("g1@ds-a.example").unwrap(),
        })
    }

    fn keys() -> SignatureKeyPair {
        SignatureKeyPair::new(SignatureScheme::ED25519).unwrap()
    }

    /// The home DS's published key for `ds`.
    fn published(ds: &SignatureKeyPair) -> DsSigningKey {
        DsSigningKey {
            key_id: ShortBytes::new(b"k1".to_vec()).unwrap(),
            signature_scheme: SIGNATURE_SCHEME_ED25519,
            public_key: Bytes::new(ds.public().to_vec()).unwrap(),
            not_after: 0,
        }
    }

    fn voucher(ds: &SignatureKeyPair, client: &str, key: &[u8]) -> ClientVoucher {
        let client_id = ClientId::new(client).unwrap();
        let mut v = ClientVoucher {
            issuer: Domain::new(client_id.domain()).unwrap(),
            key_id: ShortBytes::new(b"k1".to_vec()).unwrap(),
            client_id,
            signature_scheme: SIGNATURE_SCHEME_ED25519,
            signature_key: Bytes::new(key.to_vec()).unwrap(),
            not_after: NOW + 3600,
            signature: ShortBytes::default(),
        };
        let content = voucher_signing_content(&v).unwrap();
        v.signature = ShortBytes::new(ds.sign(&content).unwrap()).unwrap();
        v
    }

    struct Fixture {
        ds: SignatureKeyPair,
        client: SignatureKeyPair,
        request: DsRequest,
    }

    fn fixture() -> Fixture {
        let ds = keys();
        let client = keys();
        let v = voucher(&ds, CLIENT, client.public());
        let request = sign_vouched_request(body(), v, NOW, vec![5; 16], &client).unwrap();
        Fixture {
            ds,
            client,
            request,
        }
    }

    fn code(r: Result<&ClientId, DsError>) -> DsErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn a_vouched_request_verifies_round_trips_and_names_its_client() {
        let f = fixture();
        let keys = [published(&f.ds)];
        let client = verify_vouched_client(&f.request, &keys, &own(), NOW + 10, 300).unwrap();
        assert_eq!(client.as_str(), CLIENT);
        let decoded = DsRequest::decode(&f.request.encode().unwrap()).unwrap();
        assert_eq!(decoded, f.request);
        verify_vouched_client(&decoded, &keys, &own(), NOW - 300, 300).unwrap();
    }

    #[test]
    fn wrong_operation_auth_type_or_domain_is_wrong_auth_type() {
        let f = fixture();
        let keys = [published(&f.ds)];
        let DsAuthData::VouchedClient(vc) = &f.request.auth else {
            unreachable!()
        };
        let other_op = sign_vouched_request(
            DsRequestBody::KeyPackages(KeyPackagesRequest {
                client_ids: List::new(vec![]).unwrap(),
            }),
            vc.voucher.clone(),
            NOW,
            vec![5; 16],
            &f.client,
        )
        .unwrap();
        let registered = crate::queue::sign_registered_request(
            body(),
            ClientId::new(CLIENT).unwrap(),
            NOW,
            vec![5; 16],
            &f.client,
        )
        .unwrap();
        let ds_b = Domain::new("ds-b.example").unwrap();
        assert_eq!(
            code(verify_vouched_client(&other_op, &keys, &own(), NOW, 300)),
            DsErrorCode::WrongAuthType
        );
        assert_eq!(
            code(verify_vouched_client(&registered, &keys, &own(), NOW, 300)),
            DsErrorCode::WrongAuthType
        );
        // The DS of the client's own domain wants RegisteredClient.
        assert_eq!(
            code(verify_vouched_client(&f.request, &keys, &ds_b, NOW, 300)),
            DsErrorCode::WrongAuthType
        );
    }

    #[test]
    fn bad_nonce_and_stale_time_are_refused_before_the_voucher() {
        let f = fixture();
        // No issuer keys at all: the earlier checks still come first.
        let mut short = f.request.clone();
        if let DsAuthData::VouchedClient(a) = &mut short.auth {
            a.nonce = ShortBytes::new(vec![1; 15]).unwrap();
        }
        assert_eq!(
            code(verify_vouched_client(&short, &[], &own(), NOW, 300)),
            DsErrorCode::MalformedMessage
        );
        for now in [NOW + 301, NOW - 301] {
            assert_eq!(
                code(verify_vouched_client(&f.request, &[], &own(), now, 300)),
                DsErrorCode::StaleRequest
            );
        }
        assert!(matches!(
            sign_vouched_request(
                body(),
                voucher(&f.ds, CLIENT, f.client.public()),
                NOW,
                vec![0; 33],
                &f.client
            ),
            Err(QsAuthError::Length)
        ));
    }

    #[test]
    fn an_invalid_voucher_is_unvouched() {
        let f = fixture();
        let keys = [published(&f.ds)];
        // Unknown issuer key, and an expired voucher.
        assert_eq!(
            code(verify_vouched_client(
                &f.request,
                &[published(&self::keys())],
                &own(),
                NOW,
                300
            )),
            DsErrorCode::UnvouchedClient
        );
        let mut expired = voucher(&f.ds, CLIENT, f.client.public());
        expired.not_after = NOW - 1;
        let content = voucher_signing_content(&expired).unwrap();
        expired.signature = ShortBytes::new(f.ds.sign(&content).unwrap()).unwrap();
        let request = sign_vouched_request(body(), expired, NOW, vec![5; 16], &f.client).unwrap();
        assert_eq!(
            code(verify_vouched_client(&request, &keys, &own(), NOW, 300)),
            DsErrorCode::UnvouchedClient
        );
        // A voucher whose signature was altered.
        let mut forged = f.request.clone();
        if let DsAuthData::VouchedClient(a) = &mut forged.auth {
            a.voucher.not_after += 1;
        }
        assert_eq!(
            code(verify_vouched_client(&forged, &keys, &own(), NOW, 300)),
            DsErrorCode::UnvouchedClient
        );
    }

    #[test]
    fn a_request_not_signed_by_the_vouched_key_is_refused() {
        let f = fixture();
        let keys = [published(&f.ds)];
        // Signed by an impostor holding a copy of the voucher.
        let DsAuthData::VouchedClient(vc) = &f.request.auth else {
            unreachable!()
        };
        let impostor =
            sign_vouched_request(body(), vc.voucher.clone(), NOW, vec![5; 16], &self::keys())
                .unwrap();
        let mut other_time = f.request.clone();
        if let DsAuthData::VouchedClient(a) = &mut other_time.auth {
            a.timestamp += 1;
        }
        let mut other_body = f.request.clone();
        other_body.body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: GroupId::new("g2@ds-a.example").unwrap(),
        });
        for forged in [impostor, other_time, other_body] {
            assert_eq!(
                code(verify_vouched_client(&forged, &keys, &own(), NOW, 300)),
                DsErrorCode::InvalidRequestSignature,
                "{forged:?}"
            );
        }
    }
}
