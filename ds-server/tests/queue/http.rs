//! The transport of `POST /mimi/v1/queue`: the same refusals as the DS
//! endpoint (405, 415, 413), HTTP/1.1 as well as HTTP/2, and the request
//! counted under its own route.

use bytes::Bytes;
use ds_core::wire::{QsResponse, QsResponseBody};
use ds_server::http::{Limits, MEDIA_TYPE, QUEUE_PATH};
use ds_server::service::{DsService, ServiceOptions};
use http::{Method, StatusCode};
use http_body_util::Full;

use crate::common::Ds;
use crate::qs::{positions, queue_post, signed, sync_body};
use crate::support::{TestDb, on_both_backends};
use crate::transport::{Proto, TestServer, admin_get, request, send};
use crate::world::ds_ctx;

const ALICE: &str = "alice@ds-a.example/laptop";

/// A body limit small enough to exceed with a sync request.
const MAX_BODY: usize = 512;

async fn transport_refusals_and_metrics(db: TestDb) {
    let ds = Ds::new();
    let service = DsService::with_options(ds_ctx(&ds), db.store.clone(), ServiceOptions::default());
    let limits = Limits {
        max_body_bytes: MAX_BODY,
        ..Limits::default()
    };
    let server = TestServer::start(service, limits).await;
    let alice = crate::common::Client::new(ALICE);
    let rows = db.all_rows().await;

    let get = send(
        &server,
        Proto::H2,
        request(Method::GET, QUEUE_PATH, Bytes::new()),
    )
    .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);

    let sync = signed(ALICE, &alice.signer, sync_body(&positions(0, &[]), 0));
    let json = http::Request::builder()
        .method(Method::POST)
        .uri(format!("https://localhost{QUEUE_PATH}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(sync.encode().unwrap())))
        .unwrap();
    assert_eq!(
        send(&server, Proto::H2, json).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let big = vec![0u8; MAX_BODY + 1];
    let too_large = send(&server, Proto::H2, queue_post(big)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Over HTTP/1.1 the request reaches the queue service too (alice is not
    // registered here).
    let answer = send(&server, Proto::Http1, queue_post(sync.encode().unwrap())).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type.as_deref(), Some(MEDIA_TYPE));
    let body = QsResponse::decode(&answer.body).unwrap().body;
    assert!(
        matches!(&body, QsResponseBody::Error(e) if e.code == ds_core::wire::DsErrorCode::UnknownClient),
        "{body:?}"
    );
    assert_eq!(db.all_rows().await, rows);

    let (status, metrics) = admin_get(server.admin, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for status in ["200", "405", "413", "415"] {
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with("mimi_http_requests_total")
                    && l.contains("route=\"queue\"")
                    && l.contains(&format!("status=\"{status}\""))),
            "no queue request with status {status} counted:\n{metrics}"
        );
    }
    server.stop().await;
}

on_both_backends!(transport_refusals_and_metrics);
