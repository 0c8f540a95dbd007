//! Per source address: over its rate, every request of the public listener
//! is answered `429` with `Retry-After` before its body is read — a
//! `RateLimited` protocol body on the protocol endpoints, plain text on the
//! push upgrade — and nothing is stored; after `Retry-After` it passes.

use std::time::Duration;

use ds_core::wire::{
    DsAuthData, DsErrorCode, DsRequest, DsRequestBody, DsResponse, DsResponseBody, ProtocolVersion,
    QsResponseBody,
};
use ds_server::http::rate_limit::RateQuota;
use ds_server::http::{Limits, PUSH_PATH};
use ds_server::service::ServiceOptions;
use http::StatusCode;
use http::header::RETRY_AFTER;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;

use crate::client::{H2, Reply, reply};
use crate::qs::{positions, signed, sync_body};
use crate::server::{Server, client_key, start_server};
use crate::support::{TestDb, on_both_backends};
use crate::transport::{Proto, connect_to};

on_both_backends!(over_its_rate_an_address_is_refused_and_nothing_is_stored);

/// One request per second after a burst of two.
const TINY: RateQuota = RateQuota {
    per_second: 1,
    burst: 2,
};

/// More attempts than the quota can ever admit in a row.
const ATTEMPTS: usize = 50;

fn request_group_id() -> DsRequest {
    DsRequest {
        version: ProtocolVersion::V1,
        body: DsRequestBody::RequestGroupId,
        auth: DsAuthData::Anonymous,
    }
}

async fn over_its_rate_an_address_is_refused_and_nothing_is_stored(db: TestDb) {
    let limits = Limits {
        per_address: TINY,
        ..Limits::default()
    };
    let options = ServiceOptions {
        client_rate: RateQuota::UNLIMITED,
        ..ServiceOptions::default()
    };
    let server = start_server(db.store.clone(), options, limits).await;
    let mut h2 = H2::open(&server).await;

    // The burst is spent on allocations (each stores a row); then refused.
    let mut refused = None;
    for _ in 0..ATTEMPTS {
        let rows = db.all_rows().await;
        let answer = h2.ds(&request_group_id()).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((answer, rows));
            break;
        }
        let body = DsResponse::decode(&answer.body).unwrap().body;
        assert!(matches!(body, DsResponseBody::GroupId(_)), "{body:?}");
    }
    let (answer, rows_before) = refused.expect("the address was never limited");
    assert!(answer.is_rate_limited(), "{answer:?}");
    assert_eq!(answer.ds_error(), Some(DsErrorCode::RateLimited));
    assert_eq!(
        db.all_rows().await,
        rows_before,
        "a refused request stored something"
    );

    // The queue endpoint answers with a QSResponse, before any check of the
    // request (this client is not even registered).
    let key = client_key();
    let mut queue = None;
    for _ in 0..ATTEMPTS {
        let sync = signed(
            "alice@ds-a.example/laptop",
            &key,
            sync_body(&positions(0, &[]), 0),
        );
        let answer = h2.queue(&sync).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            queue = Some(answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    }
    let queue = queue.expect("the queue endpoint was never limited");
    assert!(queue.is_rate_limited(), "{queue:?}");
    assert!(
        matches!(queue.qs_body(), QsResponseBody::Error(e) if e.code == DsErrorCode::RateLimited)
    );

    // The push upgrade gets plain text (an admitted request without upgrade
    // headers is refused 426 by the push handshake instead).
    let mut push = None;
    for _ in 0..ATTEMPTS {
        let answer = push_get(&server).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            push = Some(answer);
            break;
        }
        assert_eq!(answer.status, StatusCode::UPGRADE_REQUIRED);
    }
    let push = push.expect("the push upgrade was never limited");
    assert!(push.retry_after.is_some_and(|s| s >= 1), "{push:?}");
    assert!(
        push.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/plain")),
        "{push:?}"
    );

    // After waiting as told, the address may send again.
    let wait = push.retry_after.unwrap_or(1);
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let rows = db.rows("groups").await;
    let again = h2.ds(&request_group_id()).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(db.rows("groups").await, rows + 1);
    server.stop().await;
}

/// `GET /mimi/v1/push` over a fresh HTTP/1.1 connection, without upgrade
/// headers.
async fn push_get(server: &Server) -> Reply {
    let tls = connect_to(server.public, &server.cert, Proto::Http1).await;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get(PUSH_PATH)
        .header(http::header::HOST, "localhost")
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert!(
        response.status() != StatusCode::TOO_MANY_REQUESTS
            || response.headers().contains_key(RETRY_AFTER)
    );
    reply(response).await
}
