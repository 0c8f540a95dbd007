//! A DS client over the network: one `DSRequest` per HTTP/2 POST.

use ds_core::wire::{DsError, DsErrorCode, DsRequest, DsResponseBody, ProtocolVersion};
use ds_server::http::MEDIA_TYPE;
use http::StatusCode;

use crate::transport::{Answer, Proto, TestServer, ds_post, send};

/// Posts raw bytes to `/mimi/v1/ds` over HTTP/2 + TLS and checks the
/// transport-level answer: `200`, the protocol media type, HTTP/2.
pub async fn post_raw(server: &TestServer, body: Vec<u8>) -> Answer {
    let answer = send(server, Proto::H2, ds_post(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "body: {:?}", answer.body);
    assert_eq!(answer.content_type.as_deref(), Some(MEDIA_TYPE));
    assert_eq!(answer.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(answer.version, http::Version::HTTP_2);
    answer
}

/// Encodes `request`, posts it, and decodes the version-1 `DSResponse` body.
pub async fn post(server: &TestServer, request: &DsRequest) -> DsResponseBody {
    let answer = post_raw(server, request.encode().unwrap()).await;
    let response = answer.ds_response();
    assert_eq!(response.version, ProtocolVersion::V1);
    response.body
}

/// Posts `request` and returns the body, which must not be an error.
pub async fn ok(server: &TestServer, request: &DsRequest) -> DsResponseBody {
    match post(server, request).await {
        DsResponseBody::Error(e) => panic!("refused over the network: {e}"),
        body => body,
    }
}

/// Posts `request` and returns the error it must be refused with.
pub async fn refused(server: &TestServer, request: &DsRequest) -> DsError {
    match post(server, request).await {
        DsResponseBody::Error(e) => e,
        body => panic!("expected a refusal, got {body:?}"),
    }
}

/// Posts `request` from synchronous code running inside the multi-threaded
/// runtime (the harness's `Client::join` callback).
pub fn post_blocking(server: &TestServer, request: &DsRequest) -> DsResponseBody {
    tokio::task::block_in_place(|| {
        tokio::runtime::Handle::current().block_on(post(server, request))
    })
}

/// The refusal code of `body`, if it is one.
pub fn code(body: &DsResponseBody) -> Option<DsErrorCode> {
    match body {
        DsResponseBody::Error(e) => Some(e.code),
        _ => None,
    }
}
