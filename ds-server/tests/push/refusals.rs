//! Bad opening frames: each gets one `QSResponse` error frame with its
//! typed code and a close, and changes nothing in storage. Non-WebSocket
//! requests to the push path get a plain-text HTTP refusal.

use std::time::Duration;

use ds_core::wire::{DsErrorCode, QsRequestBody, QueuePositions, SyncRequest};
use ds_server::http::{Limits, PUSH_PATH};
use ds_server::push::PushOptions;
use ds_server::service::ServiceOptions;
use futures_util::SinkExt;
use http::{Method, StatusCode};
use openmls::prelude::SignatureScheme;
use openmls_basic_credential::SignatureKeyPair;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::qs::{register, signed, signed_at};
use crate::support::{TestDb, on_both_backends};
use crate::transport::{Proto, TestServer, TransportDouble, request, send};
use crate::world::{Conversation, start};
use crate::ws::{
    Opening, close_code, next_page, open, refusal_then_close, send_frame, subscribe_request,
};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

fn subscribe_body() -> QsRequestBody {
    QsRequestBody::Subscribe(SyncRequest {
        after: QueuePositions::default(),
        max_entries: 0,
    })
}

async fn bad_first_frames_are_refused_with_their_code(db: TestDb) {
    let options = ServiceOptions {
        push: PushOptions {
            first_frame_timeout: Duration::from_millis(300),
            ..PushOptions::default()
        },
        ..ServiceOptions::default()
    };
    let (ds, server) = start(&db, options).await;
    let conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let alice = &conv.members[0].signer;
    let stranger = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    register(&server, "carol@ds-a.example/1", &stranger).await;
    let rows = db.all_rows().await;

    let now = crate::qs::now();
    let cases: Vec<(&str, Vec<u8>, DsErrorCode)> = vec![
        (
            "garbage",
            b"\x00\x01 not a QSRequest".to_vec(),
            DsErrorCode::MalformedMessage,
        ),
        (
            "unknown version",
            {
                let mut bytes = signed(ALICE, alice, subscribe_body()).encode().unwrap();
                bytes[1] = 9;
                bytes
            },
            DsErrorCode::UnsupportedVersion,
        ),
        (
            "forged signature",
            signed(ALICE, &stranger, subscribe_body()).encode().unwrap(),
            DsErrorCode::InvalidRequestSignature,
        ),
        (
            "unknown client",
            signed("nobody@ds-a.example/x", alice, subscribe_body())
                .encode()
                .unwrap(),
            DsErrorCode::UnknownClient,
        ),
        (
            "client of another domain",
            signed("alice@ds-b.example/laptop", alice, subscribe_body())
                .encode()
                .unwrap(),
            DsErrorCode::UnknownClient,
        ),
        (
            "stale",
            signed_at(ALICE, alice, subscribe_body(), now - 3600)
                .encode()
                .unwrap(),
            DsErrorCode::StaleRequest,
        ),
        (
            "sync instead of subscribe",
            signed(
                ALICE,
                alice,
                QsRequestBody::Sync(SyncRequest {
                    after: QueuePositions::default(),
                    max_entries: 0,
                }),
            )
            .encode()
            .unwrap(),
            DsErrorCode::UnsupportedOperation,
        ),
    ];
    for (i, (what, frame, code)) in cases.into_iter().enumerate() {
        let opening = if i % 2 == 0 {
            Opening::Upgrade
        } else {
            Opening::ExtendedConnect
        };
        let mut push = open(&server, opening).await;
        send_frame(&mut push, frame).await;
        let (error, close) = refusal_then_close(&mut push).await;
        assert_eq!(error.code, code, "{what}: {error}");
        assert!(!error.detail().is_empty(), "{what}: a readable reason");
        assert_eq!(close.unwrap().code, CloseCode::Policy, "{what}");
    }
    assert_eq!(db.all_rows().await, rows, "refusals change nothing");

    // A subscribe frame is accepted once; the same frame again is a replay.
    let frame = subscribe_request(BOB, &conv.members[1].signer, &QueuePositions::default(), 0)
        .encode()
        .unwrap();
    let mut accepted = open(&server, Opening::Upgrade).await;
    send_frame(&mut accepted, frame.clone()).await;
    let page = next_page(&mut accepted).await;
    assert_eq!(page.inbox.len(), 1, "bob's Welcome");
    let mut replayed = open(&server, Opening::Upgrade).await;
    send_frame(&mut replayed, frame).await;
    let (error, _) = refusal_then_close(&mut replayed).await;
    assert_eq!(error.code, DsErrorCode::ReplayedRequest);

    // After subscribing, the client only reads: a data frame ends it.
    accepted
        .send(Message::binary(b"more".to_vec()))
        .await
        .unwrap();
    assert_eq!(close_code(&mut accepted).await, CloseCode::Policy);

    // A text frame first is not a protocol message.
    let mut text = open(&server, Opening::Upgrade).await;
    text.send(Message::text("subscribe me")).await.unwrap();
    assert_eq!(close_code(&mut text).await, CloseCode::Unsupported);

    // Silence after the upgrade: closed once the first-frame time is up.
    let mut silent = open(&server, Opening::ExtendedConnect).await;
    assert_eq!(close_code(&mut silent).await, CloseCode::Policy);

    server.stop().await;
}

on_both_backends!(bad_first_frames_are_refused_with_their_code);

#[tokio::test]
async fn an_endpoint_without_push_refuses_subscribe() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let keys = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    let mut push = open(&server, Opening::Upgrade).await;
    send_frame(
        &mut push,
        subscribe_request(ALICE, &keys, &QueuePositions::default(), 0)
            .encode()
            .unwrap(),
    )
    .await;
    let (error, _) = refusal_then_close(&mut push).await;
    assert_eq!(error.code, DsErrorCode::UnsupportedOperation);
    server.stop().await;
}

#[tokio::test]
async fn requests_that_are_not_websocket_openings_get_plain_refusals() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let cases = [
        (Proto::Http1, Method::GET, StatusCode::UPGRADE_REQUIRED),
        (Proto::Http1, Method::POST, StatusCode::METHOD_NOT_ALLOWED),
        (Proto::H2, Method::GET, StatusCode::BAD_REQUEST),
    ];
    for (proto, method, status) in cases {
        let answer = send(&server, proto, request(method.clone(), PUSH_PATH, "")).await;
        assert_eq!(answer.status, status, "{proto:?} {method}");
        assert_eq!(
            answer.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
        assert!(!answer.body.is_empty(), "a reason in words");
    }
    server.stop().await;
}
