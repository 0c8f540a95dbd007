//! Scenario `push`: send-to-push latency. A registered member listens on
//! the live-push channel (`GET /mimi/v1/push`, WebSocket over TLS +
//! HTTP/1.1) while another member sends at a fixed rate; the latency of a
//! message is from the start of its `send_message` POST to the push frame
//! that carries it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use ds_core::wire::{
    DsRequest, DsRequestBody, QsRequestBody, QsResponse, QsResponseBody, SyncRequest,
};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::common::Client;
use crate::drain::{register, signed};
use crate::drive::{Starts, open_loop};
use crate::group::{self, client_id};
use crate::net::Pool;
use crate::send::generate;
use crate::server::Server;
use crate::stats::Tally;

/// Options of `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Group size.
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Messages per second sent while the listener is connected.
    #[arg(long, default_value_t = 1_000.0)]
    pub rate: f64,
    /// Length of the sending phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

/// Runs the scenario and prints its summary line.
pub async fn run(server: &Server, pool: &Pool, args: &PushArgs) {
    let listener = Client::new(&client_id("push", 1));
    register(pool, &listener).await;
    let mut group = group::build_with(pool, "push", args.members.max(2), vec![listener]).await;
    let listener = group.members.remove(1);
    let mut socket = crate::ws::connect(server.public, &server.cert, "/mimi/v1/push").await;
    subscribe(&mut socket, &listener).await;

    let count = (args.rate * args.seconds).ceil() as usize;
    let requests = generate(&mut group, count);
    let index = message_index(&requests);
    let sent_at: Starts = Arc::new(Mutex::new(vec![None; count]));
    let receiver = tokio::spawn(receive(socket, index, Arc::clone(&sent_at), count));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let phase = open_loop(pool, requests, args.rate, Some(sent_at)).await;
    let mut tally = receiver.await.expect("push receiver");
    let p = tally.percentiles();
    println!(
        "load push members={} rate={:.0} sent={} accepted={} refused={} pushed={} {p}",
        args.members,
        args.rate,
        phase.sent,
        phase.tally.accepted,
        phase.tally.refused_total(),
        tally.accepted,
    );
}

/// The live-push WebSocket of a client.
pub type Socket = WebSocketStream<TlsStream<TcpStream>>;

/// Subscribes `listener` on its push `socket` from now on (no backlog).
pub async fn subscribe(socket: &mut Socket, listener: &Client) {
    let subscribe = QsRequestBody::Subscribe(SyncRequest {
        after: Default::default(),
        max_entries: 0,
    });
    let frame = signed(listener, subscribe)
        .encode()
        .expect("encode subscribe");
    socket
        .send(Message::binary(frame))
        .await
        .expect("subscribe frame");
}

/// Position of each request's MLS message among `requests`.
pub fn message_index(requests: &[Bytes]) -> HashMap<Vec<u8>, usize> {
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| (application_message(r), i))
        .collect()
}

/// Reads push frames until `count` of the indexed messages arrived (or the
/// channel is quiet for 10 s); the latency of each is from its start in
/// `sent_at` to the arrival of its frame.
pub async fn receive(
    mut socket: Socket,
    index: HashMap<Vec<u8>, usize>,
    sent_at: Starts,
    count: usize,
) -> Tally {
    let mut tally = Tally::default();
    let mut delivered = 0;
    while delivered < count {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
        let Ok(Some(Ok(frame))) = frame else {
            eprintln!("load: push channel quiet or closed after {delivered} messages");
            break;
        };
        let arrived = Instant::now();
        let Message::Binary(bytes) = frame else {
            continue;
        };
        let page = match QsResponse::decode(&bytes).map(|r| r.body) {
            Ok(QsResponseBody::Page(page)) => page,
            other => panic!("push frame: {other:?}"),
        };
        let sent_at = sent_at.lock().expect("send times");
        for entry in page.group_entries.as_slice() {
            let Some(&i) = index.get(entry.message.as_slice()) else {
                continue;
            };
            if let Some(start) = sent_at[i] {
                tally
                    .latencies
                    .push(arrived.saturating_duration_since(start));
                tally.accepted += 1;
                delivered += 1;
            }
        }
    }
    tally
}

/// The MLS message inside an encoded SendMessage request.
fn application_message(request: &Bytes) -> Vec<u8> {
    match DsRequest::decode(request).expect("own request").body {
        DsRequestBody::SendMessage(m) => m.application_message.as_slice().to_vec(),
        _ => unreachable!("only messages are generated"),
    }
}
