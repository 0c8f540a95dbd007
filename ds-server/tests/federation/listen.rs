//! A live-push listener on a client's home DS: the WebSocket opened with an
//! HTTP/1.1 upgrade over TLS verified for the DS's domain, the signed
//! subscribe frame, and a task that keeps reading (answering pings) and
//! hands every page over.

use ds_core::wire::{QsResponse, QsResponseBody, QueuePage, QueuePositions};
use ds_server::http::PUSH_PATH;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::member::Member;
use crate::net::Endpoint;
use crate::poll::DEADLINE;
use crate::ws::{Io, Received, send_frame, subscribe_request};

/// Pages pushed to one client, in arrival order.
pub struct Listener {
    pages: mpsc::UnboundedReceiver<QueuePage>,
    /// Everything received so far (gap-free per group and inbox).
    pub received: Received,
}

impl Listener {
    /// Subscribes `member` at `home` after `after`.
    pub async fn subscribe(home: &Endpoint, member: &Member, after: &QueuePositions) -> Self {
        let tls = home.tls(b"http/1.1").await.unwrap();
        let (mut push, response) = tokio_tungstenite::client_async(
            format!("wss://{}{PUSH_PATH}", home.domain),
            Box::new(tls) as Box<dyn Io>,
        )
        .await
        .unwrap();
        assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
        let request = subscribe_request(member.id(), &member.client.signer, after, 10);
        send_frame(&mut push, request.encode().unwrap()).await;
        let (tx, pages) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(message)) = push.next().await {
                if let Message::Binary(bytes) = message {
                    match QsResponse::decode(&bytes).unwrap().body {
                        QsResponseBody::Page(page) => {
                            if tx.send(page).is_err() {
                                return;
                            }
                        }
                        other => panic!("push frame {other:?}"),
                    }
                }
            }
        });
        Self {
            pages,
            received: Received::default(),
        }
    }

    /// Takes pushed pages until `group` has entry `sequence`.
    pub async fn until(&mut self, group: &str, sequence: u64) {
        while self.received.group(group).last().map_or(0, |(seq, _)| *seq) < sequence {
            let page = tokio::time::timeout(DEADLINE, self.pages.recv())
                .await
                .unwrap_or_else(|_| panic!("no push frame with entry {sequence} of {group}"))
                .expect("the push connection ended");
            self.received.take(&page);
        }
    }
}
