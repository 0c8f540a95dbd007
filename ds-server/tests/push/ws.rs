//! A push client for tests: a WebSocket to `/mimi/v1/push` over TLS, opened
//! by an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT, the signed
//! subscribe frame, and the decoded frames that come back.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::{
    DsError, QsRequest, QsRequestBody, QsResponse, QsResponseBody, QueuePage, QueuePositions,
    SyncRequest,
};
use ds_server::http::PUSH_PATH;
use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, StatusCode};
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use openmls_basic_credential::SignatureKeyPair;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::qs::{positions, signed};
use crate::transport::{Proto, TestServer, connect};

/// Failure guard for anything the server should send promptly.
pub const GUARD: Duration = Duration::from_secs(10);

/// Any push connection, whichever HTTP version carries it.
pub type Push = WebSocketStream<Box<dyn Io>>;

/// The byte stream under a WebSocket.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How the WebSocket is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// HTTP/1.1 `Upgrade: websocket` (ALPN http/1.1).
    Upgrade,
    /// HTTP/2 extended CONNECT (ALPN h2).
    ExtendedConnect,
}

/// Opens a push WebSocket to `server`.
pub async fn open(server: &TestServer, opening: Opening) -> Push {
    match opening {
        Opening::Upgrade => {
            let tls = connect(server, Proto::Http1).await;
            let (socket, response) = tokio_tungstenite::client_async(
                format!("wss://localhost{PUSH_PATH}"),
                Box::new(tls) as Box<dyn Io>,
            )
            .await
            .unwrap();
            assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
            socket
        }
        Opening::ExtendedConnect => {
            let tls = connect(server, Proto::H2).await;
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let mut request = Request::builder()
                .method(Method::CONNECT)
                .uri(format!("https://localhost{PUSH_PATH}"))
                .header("sec-websocket-version", "13")
                .body(Empty::<Bytes>::new())
                .unwrap();
            request
                .extensions_mut()
                .insert(hyper::ext::Protocol::from_static("websocket"));
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let upgraded = hyper::upgrade::on(response).await.unwrap();
            let io: Box<dyn Io> = Box::new(TokioIo::new(upgraded));
            WebSocketStream::from_raw_socket(io, Role::Client, None).await
        }
    }
}

/// A signed subscribe request of client `id` after `after`.
pub fn subscribe_request(
    id: &str,
    signer: &SignatureKeyPair,
    after: &QueuePositions,
    max_entries: u32,
) -> QsRequest {
    signed(
        id,
        signer,
        QsRequestBody::Subscribe(SyncRequest {
            after: after.clone(),
            max_entries,
        }),
    )
}

/// Sends raw bytes as one binary frame.
pub async fn send_frame(push: &mut Push, bytes: Vec<u8>) {
    push.send(Message::binary(bytes)).await.unwrap();
}

/// Opens a connection and subscribes client `id` after `after`.
pub async fn subscribe(
    server: &TestServer,
    opening: Opening,
    id: &str,
    signer: &SignatureKeyPair,
    after: &QueuePositions,
    max_entries: u32,
) -> Push {
    let mut push = open(server, opening).await;
    let request = subscribe_request(id, signer, after, max_entries);
    send_frame(&mut push, request.encode().unwrap()).await;
    push
}

/// The next frame that is not a ping or pong.
pub async fn next_message(push: &mut Push) -> Message {
    loop {
        let message = tokio::time::timeout(GUARD, push.next())
            .await
            .expect("no frame from the server in time")
            .expect("the push connection ended")
            .expect("the push connection failed");
        match message {
            Message::Ping(_) | Message::Pong(_) => continue,
            other => return other,
        }
    }
}

/// The next frame, which must be a `QSResponse`.
pub async fn next_response(push: &mut Push) -> QsResponse {
    match next_message(push).await {
        Message::Binary(bytes) => QsResponse::decode(&bytes).unwrap(),
        other => panic!("expected a binary QSResponse frame, got {other:?}"),
    }
}

/// The next frame, which must be a page.
pub async fn next_page(push: &mut Push) -> QueuePage {
    match next_response(push).await.body {
        QsResponseBody::Page(page) => page,
        other => panic!("expected a page, got {other:?}"),
    }
}

/// The next frame, which must be a refusal, followed by the close.
pub async fn refusal_then_close(push: &mut Push) -> (DsError, Option<CloseFrame>) {
    let error = match next_response(push).await.body {
        QsResponseBody::Error(error) => error,
        other => panic!("expected a refusal, got {other:?}"),
    };
    (error, close_frame(push).await)
}

/// Reads until the server's close frame.
pub async fn close_frame(push: &mut Push) -> Option<CloseFrame> {
    match next_message(push).await {
        Message::Close(frame) => frame,
        other => panic!("expected the close frame, got {other:?}"),
    }
}

/// The close code the server ended with.
pub async fn close_code(push: &mut Push) -> CloseCode {
    close_frame(push)
        .await
        .expect("the close frame carries a code")
        .code
}

/// What a listener received, by (group, sequence) and inbox sequence.
#[derive(Debug, Default)]
pub struct Received {
    /// Inbox entries in arrival order.
    pub inbox: Vec<(u64, Vec<u8>)>,
    /// Group entries in arrival order, per group.
    pub groups: BTreeMap<String, Vec<(u64, Vec<u8>)>>,
}

impl Received {
    /// Records `page`, checking that within this listener each sequence is
    /// the one after the previous (no gap, no repeat).
    pub fn take(&mut self, page: &QueuePage) {
        for entry in page.inbox.as_slice() {
            if let Some((last, _)) = self.inbox.last() {
                assert_eq!(entry.sequence, last + 1, "inbox gap or repeat");
            }
            self.inbox
                .push((entry.sequence, entry.message.as_slice().to_vec()));
        }
        for entry in page.group_entries.as_slice() {
            let log = self
                .groups
                .entry(entry.group_id.as_str().to_owned())
                .or_default();
            if let Some((last, _)) = log.last() {
                assert_eq!(entry.sequence, last + 1, "group log gap or repeat");
            }
            log.push((entry.sequence, entry.message.as_slice().to_vec()));
        }
    }

    /// Entries of `group` received so far.
    pub fn group(&self, group: &str) -> &[(u64, Vec<u8>)] {
        self.groups.get(group).map_or(&[], Vec::as_slice)
    }

    /// The positions after everything received.
    pub fn positions(&self) -> QueuePositions {
        let inbox = self.inbox.last().map_or(0, |(seq, _)| *seq);
        let groups: Vec<(&str, u64)> = self
            .groups
            .iter()
            .filter_map(|(g, log)| log.last().map(|(seq, _)| (g.as_str(), *seq)))
            .collect();
        positions(inbox, &groups)
    }
}

/// Reads pages into `received` until `group` has an entry with `sequence`.
pub async fn read_until(push: &mut Push, received: &mut Received, group: &str, sequence: u64) {
    while received.group(group).last().map_or(0, |(seq, _)| *seq) < sequence {
        let page = next_page(push).await;
        received.take(&page);
    }
}
