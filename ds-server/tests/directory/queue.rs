//! A queue-service client over the network: signed `QSRequest`s posted to
//! `POST /mimi/v1/queue` over HTTP/2 + TLS.

use std::sync::atomic::{AtomicU64, Ordering};

use ds_core::queue::sign_qs_request;
use ds_core::wire::{
    Bytes, DsError, KeyPackageCountRequest, KeyPackageKind, KeyPackageUpload, List,
    PublishKeyPackagesRequest, QsRequestBody, QsResponse, QsResponseBody, QueuePage,
    RegisterClientRequest, SIGNATURE_SCHEME_ED25519, ShortBytes, SyncRequest,
};
use ds_server::http::{MEDIA_TYPE, QUEUE_PATH};
use http::{Method, StatusCode};

use crate::common::Client;
use crate::packages::now;
use crate::transport::{Proto, TestServer, request, send};

/// A nonce no other request of this test process uses (16 bytes).
fn nonce() -> Vec<u8> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut nonce = n.to_be_bytes().to_vec();
    nonce.extend_from_slice(&std::process::id().to_be_bytes());
    nonce.extend_from_slice(&[0x6e; 4]);
    nonce
}

/// Signs `body` as `client` and posts it; the transport answer must be a
/// `200` with an encoded `QSResponse` over HTTP/2.
pub async fn post(server: &TestServer, client: &Client, body: QsRequestBody) -> QsResponseBody {
    let signed = sign_qs_request(body, client.id.clone(), now(), nonce(), &client.signer).unwrap();
    let http = request(Method::POST, QUEUE_PATH, signed.encode().unwrap());
    let answer = send(server, Proto::H2, http).await;
    assert_eq!(answer.status, StatusCode::OK, "body: {:?}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some(MEDIA_TYPE));
    assert_eq!(answer.version, http::Version::HTTP_2);
    QsResponse::decode(&answer.body).unwrap().body
}

/// Registers `client` with its signature key (open registration).
pub async fn register(server: &TestServer, client: &Client) {
    let body = QsRequestBody::RegisterClient(RegisterClientRequest {
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: Bytes::new(client.signer.public().to_vec()).unwrap(),
        registration_token: ShortBytes::default(),
    });
    let answer = post(server, client, body).await;
    assert_eq!(answer, QsResponseBody::Ok, "registering {}", client.id);
}

/// Publishes `uploads` as `client`: the count answered, or the refusal.
pub async fn publish(
    server: &TestServer,
    client: &Client,
    uploads: Vec<KeyPackageUpload>,
) -> Result<u32, DsError> {
    let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
        key_packages: List::new(uploads).unwrap(),
    });
    count_answer(post(server, client, body).await)
}

/// The client's own count of key packages left in pool `kind`.
pub async fn count(server: &TestServer, client: &Client, kind: KeyPackageKind) -> u32 {
    let body = QsRequestBody::KeyPackageCount(KeyPackageCountRequest { kind });
    count_answer(post(server, client, body).await).unwrap()
}

fn count_answer(body: QsResponseBody) -> Result<u32, DsError> {
    match body {
        QsResponseBody::KeyPackageCount(n) => Ok(n),
        QsResponseBody::Error(e) => Err(e),
        other => panic!("expected a key package count, got {other:?}"),
    }
}

/// Everything in the client's queue (one page).
pub async fn sync(server: &TestServer, client: &Client) -> QueuePage {
    let body = QsRequestBody::Sync(SyncRequest {
        after: Default::default(),
        max_entries: 100,
    });
    match post(server, client, body).await {
        QsResponseBody::Page(page) => page,
        other => panic!("expected a page, got {other:?}"),
    }
}
