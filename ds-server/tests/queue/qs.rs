//! A queue-service client for tests: signed `QSRequest`s posted over HTTP/2
//! + TLS to `POST /mimi/v1/queue`, and the decoded `QSResponse`s.

use bytes::Bytes;
use ds_core::queue::sign_qs_request;
use ds_core::wire::{
    AckRequest, ClientId, DsError, DsErrorCode, GroupPosition, List, PageEnd, ProtocolVersion,
    QsRequest, QsRequestBody, QsResponse, QsResponseBody, QueuePage, QueuePositions,
    RegisterClientRequest, SIGNATURE_SCHEME_ED25519, ShortBytes, SyncRequest,
};
use ds_server::http::{MEDIA_TYPE, QUEUE_PATH};
use ds_server::storage::Timestamp;
use http::{Method, StatusCode};
use http_body_util::Full;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::random::OpenMlsRand;

use crate::transport::{Proto, TestServer, request, send};

/// The server's clock, as a client would read it.
pub fn now() -> u64 {
    Timestamp::now().unix_secs()
}

/// 16 fresh random bytes.
pub fn fresh_nonce() -> Vec<u8> {
    OpenMlsRustCrypto::default().rand().random_vec(16).unwrap()
}

/// `body` signed by `signer` as client `id`, made at `timestamp`.
pub fn signed_at(
    id: &str,
    signer: &SignatureKeyPair,
    body: QsRequestBody,
    timestamp: u64,
) -> QsRequest {
    sign_qs_request(
        body,
        ClientId::new(id).unwrap(),
        timestamp,
        fresh_nonce(),
        signer,
    )
    .unwrap()
}

/// `body` signed by `signer` as client `id`, made now.
pub fn signed(id: &str, signer: &SignatureKeyPair, body: QsRequestBody) -> QsRequest {
    signed_at(id, signer, body, now())
}

/// `register_client` of an Ed25519 `key`, with `token` (empty: none).
pub fn register_body(key: &[u8], token: &[u8]) -> QsRequestBody {
    QsRequestBody::RegisterClient(RegisterClientRequest {
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: ds_core::wire::Bytes::new(key.to_vec()).unwrap(),
        registration_token: ShortBytes::new(token.to_vec()).unwrap(),
    })
}

/// `sync` after `after`, at most `max_entries` per page.
pub fn sync_body(after: &QueuePositions, max_entries: u32) -> QsRequestBody {
    QsRequestBody::Sync(SyncRequest {
        after: after.clone(),
        max_entries,
    })
}

/// `ack` of `positions`.
pub fn ack_body(positions: &QueuePositions) -> QsRequestBody {
    QsRequestBody::Ack(AckRequest {
        positions: positions.clone(),
    })
}

/// Positions from an inbox number and (group, sequence) pairs.
pub fn positions(inbox: u64, groups: &[(&str, u64)]) -> QueuePositions {
    QueuePositions {
        groups: List::new(
            groups
                .iter()
                .map(|(g, s)| GroupPosition {
                    group_id: ds_core::wire::GroupId::new(g).unwrap(),
                    sequence: *s,
                })
                .collect(),
        )
        .unwrap(),
        inbox,
    }
}

/// `POST /mimi/v1/queue` with `body`.
pub fn queue_post(body: impl Into<Bytes>) -> http::Request<Full<Bytes>> {
    request(Method::POST, QUEUE_PATH, body)
}

/// Posts raw bytes to the queue endpoint over HTTP/2 and decodes the answer,
/// which must be `200`, the protocol media type and a version-1 `QSResponse`.
pub async fn qs_raw(server: &TestServer, body: Vec<u8>) -> QsResponseBody {
    let answer = send(server, Proto::H2, queue_post(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "body: {:?}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some(MEDIA_TYPE));
    assert_eq!(answer.version, http::Version::HTTP_2);
    let response = QsResponse::decode(&answer.body).unwrap();
    assert_eq!(response.version, ProtocolVersion::V1);
    response.body
}

/// Posts `request` and returns the answer's body.
pub async fn qs(server: &TestServer, request: &QsRequest) -> QsResponseBody {
    qs_raw(server, request.encode().unwrap()).await
}

/// Posts `request`, which must be refused; returns the error.
pub async fn qs_refused(server: &TestServer, request: &QsRequest) -> DsError {
    match qs(server, request).await {
        QsResponseBody::Error(e) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The code of a refusal, if `body` is one.
pub fn qs_code(body: &QsResponseBody) -> Option<DsErrorCode> {
    match body {
        QsResponseBody::Error(e) => Some(e.code),
        _ => None,
    }
}

/// Posts `request`, which must be answered `Ok`.
pub async fn qs_ok(server: &TestServer, request: &QsRequest) {
    let body = qs(server, request).await;
    assert_eq!(body, QsResponseBody::Ok, "{:?}", qs_code(&body));
}

/// Registers client `id` with `signer`'s key under the open policy.
pub async fn register(server: &TestServer, id: &str, signer: &SignatureKeyPair) {
    let request = signed(id, signer, register_body(signer.public(), b""));
    qs_ok(server, &request).await;
}

/// One sync page of client `id` after `after`.
pub async fn sync_page(
    server: &TestServer,
    id: &str,
    signer: &SignatureKeyPair,
    after: &QueuePositions,
    max_entries: u32,
) -> QueuePage {
    match qs(server, &signed(id, signer, sync_body(after, max_entries))).await {
        QsResponseBody::Page(page) => page,
        other => panic!("sync answered {other:?}"),
    }
}

/// `after` moved past everything in `page`.
pub fn advance(after: &QueuePositions, page: &QueuePage) -> QueuePositions {
    let mut inbox = after.inbox;
    let mut groups: Vec<(String, u64)> = after
        .groups
        .as_slice()
        .iter()
        .map(|p| (p.group_id.as_str().to_owned(), p.sequence))
        .collect();
    for entry in page.inbox.as_slice() {
        inbox = inbox.max(entry.sequence);
    }
    for entry in page.group_entries.as_slice() {
        match groups
            .iter_mut()
            .find(|(g, _)| g == entry.group_id.as_str())
        {
            Some((_, seq)) => *seq = (*seq).max(entry.sequence),
            None => groups.push((entry.group_id.as_str().to_owned(), entry.sequence)),
        }
    }
    let pairs: Vec<(&str, u64)> = groups.iter().map(|(g, s)| (g.as_str(), *s)).collect();
    positions(inbox, &pairs)
}

/// Every page of client `id` from `after` on until one is complete; the
/// pages and the positions after the last.
pub async fn sync_all(
    server: &TestServer,
    id: &str,
    signer: &SignatureKeyPair,
    after: &QueuePositions,
    max_entries: u32,
) -> (Vec<QueuePage>, QueuePositions) {
    let mut pages = Vec::new();
    let mut after = after.clone();
    loop {
        let page = sync_page(server, id, signer, &after, max_entries).await;
        after = advance(&after, &page);
        let more = page.end == PageEnd::More;
        pages.push(page);
        assert!(pages.len() < 100, "sync does not end");
        if !more {
            return (pages, after);
        }
    }
}
