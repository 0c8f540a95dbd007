//! Around the live stream: entries stored by another DS process sharing the
//! database arrive through the periodic re-read; the metrics count them;
//! keepalive pings do not disturb a live client; and shutdown closes every
//! push connection with "going away" instead of hanging on it.

use std::time::Duration;

use ds_core::wire::QueuePositions;
use ds_server::http::Limits;
use ds_server::push::PushOptions;
use ds_server::service::{DsService, ServiceOptions};
use ds_server::storage::Store;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::qs::positions;
use crate::support::{TestDb, on_both_backends};
use crate::transport::{TestServer, admin_get};
use crate::world::{Conversation, ds_ctx, start};
use crate::ws::{GUARD, Opening, Received, close_code, next_page, open, read_until, subscribe};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

async fn entries_stored_by_another_process_are_pushed(db: TestDb) {
    // Process B takes the requests; process A, on the same database, only
    // serves bob's push connection, and no commit in A wakes it.
    let (ds, server_b) = start(&db, ServiceOptions::default()).await;
    let mut conv = Conversation::start(&server_b, &db, &ds, &[ALICE, BOB]).await;
    let gid = conv.group_id.as_str().to_owned();
    let options_a = ServiceOptions {
        push: PushOptions {
            poll_interval: Duration::from_millis(200),
            ..PushOptions::default()
        },
        ..ServiceOptions::default()
    };
    let store_a = Store::connect(&db.url).await.unwrap();
    let service_a = DsService::with_options(ds_ctx(&ds), store_a, options_a);
    let server_a = TestServer::start(service_a, Limits::default()).await;

    let after_welcome = positions(1, &[(gid.as_str(), conv.added_at)]);
    let mut push = subscribe(
        &server_a,
        Opening::Upgrade,
        BOB,
        &conv.members[1].signer,
        &after_welcome,
        0,
    )
    .await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            conv.send(&server_b, 0, format!("via b {i}").as_bytes())
                .await,
        );
    }
    let mut received = Received::default();
    let last = conv.added_at + 5;
    read_until(&mut push, &mut received, &gid, last).await;
    let messages: Vec<Vec<u8>> = received
        .group(&gid)
        .iter()
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(messages, sent);

    let (status, metrics) = admin_get(server_a.admin, "/metrics").await;
    assert_eq!(status, http::StatusCode::OK);
    assert!(metrics.contains("mimi_push_entries_total"), "{metrics}");
    assert!(metrics.contains("mimi_push_connections"), "{metrics}");

    drop(push);
    server_a.stop().await;
    server_b.stop().await;
}

async fn shutdown_closes_push_connections(db: TestDb) {
    let (ds, mut server) = start(&db, ServiceOptions::default()).await;
    let conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let bob = &conv.members[1].signer;
    let mut over_h1 = subscribe(
        &server,
        Opening::Upgrade,
        BOB,
        bob,
        &QueuePositions::default(),
        0,
    )
    .await;
    let mut over_h2 = subscribe(
        &server,
        Opening::ExtendedConnect,
        BOB,
        bob,
        &QueuePositions::default(),
        0,
    )
    .await;
    for push in [&mut over_h1, &mut over_h2] {
        assert_eq!(next_page(push).await.inbox.len(), 1, "bob's Welcome");
    }
    // One that opened but never subscribed.
    let mut unsubscribed = open(&server, Opening::Upgrade).await;

    server.begin_shutdown();
    for push in [&mut over_h1, &mut over_h2, &mut unsubscribed] {
        assert_eq!(close_code(push).await, CloseCode::Away);
    }
    // Returns (within the stop guard) although the clients never hung up.
    server.stop().await;
}

async fn keepalive_pings_keep_an_answering_client_connected(db: TestDb) {
    let options = ServiceOptions {
        push: PushOptions {
            ping_interval: Duration::from_millis(100),
            ..PushOptions::default()
        },
        ..ServiceOptions::default()
    };
    let (ds, server) = start(&db, options).await;
    let mut conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let gid = conv.group_id.as_str().to_owned();
    let after_welcome = positions(1, &[(gid.as_str(), conv.added_at)]);
    let mut push = subscribe(
        &server,
        Opening::ExtendedConnect,
        BOB,
        &conv.members[1].signer,
        &after_welcome,
        0,
    )
    .await;
    // The client answers pings while reading (tungstenite does); several
    // ping intervals later the connection still delivers.
    let mut pings = 0;
    while pings < 5 {
        match tokio::time::timeout(GUARD, push.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("expected pings, got {other:?}"),
        }
    }
    let sent = conv.send(&server, 0, b"still here").await;
    let mut received = Received::default();
    read_until(&mut push, &mut received, &gid, conv.added_at + 1).await;
    assert_eq!(received.group(&gid)[0].1, sent);
    server.stop().await;
}

async fn a_client_that_stops_answering_pings_is_disconnected(db: TestDb) {
    let options = ServiceOptions {
        push: PushOptions {
            ping_interval: Duration::from_millis(100),
            ..PushOptions::default()
        },
        ..ServiceOptions::default()
    };
    let ds = crate::common::Ds::new();
    let service = DsService::with_options(ds_ctx(&ds), db.store.clone(), options);
    let server = TestServer::start(service.clone(), Limits::default()).await;
    let conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let mut push = subscribe(
        &server,
        Opening::Upgrade,
        BOB,
        &conv.members[1].signer,
        &QueuePositions::default(),
        0,
    )
    .await;
    assert_eq!(next_page(&mut push).await.inbox.len(), 1, "bob's Welcome");
    // Bob stops reading, so he answers no ping; the server gives up on him
    // and unregisters the connection.
    tokio::time::timeout(GUARD, async {
        while service.notifier().listening_clients() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the silent connection was not dropped");
    assert_eq!(close_code(&mut push).await, CloseCode::Policy);
    server.stop().await;
}

on_both_backends!(
    entries_stored_by_another_process_are_pushed,
    a_client_that_stops_answering_pings_is_disconnected,
    shutdown_closes_push_connections,
    keepalive_pings_keep_an_answering_client_connected
);
