//! One push connection after the opening handshake: the `subscribe` frame,
//! then a page frame whenever the client's feed has entries; keepalive
//! pings; a clean close on refusal, error or server shutdown.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, QsRequest, QsResponse, QsResponseBody};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tracing::Instrument;

use super::PushStop;
use crate::http::endpoint::DsEndpoint;
use crate::push::metrics::{ConnectionGauge, record_pushed, record_refused};
use crate::push::{Feed, PushOptions};

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Runs one push connection to its end.
pub(super) async fn run<E: DsEndpoint>(
    upgrade: OnUpgrade,
    endpoint: Arc<E>,
    stop: PushStop,
    max_message: usize,
) {
    let upgraded = match upgrade.await {
        Ok(upgraded) => upgraded,
        Err(error) => {
            tracing::debug!(%error, "push upgrade did not complete");
            return;
        }
    };
    let _gauge = ConnectionGauge::open();
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let socket =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    let (sink, stream) = socket.split();
    let mut session = Session {
        sink,
        stream,
        stop,
        options: endpoint.push_options(),
    };
    session.serve(endpoint.as_ref()).await;
}

/// Why the session ends, and the close code it ends with.
struct Ending {
    code: CloseCode,
    reason: &'static str,
}

impl Ending {
    const fn new(code: CloseCode, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

struct Session {
    sink: SplitSink<Socket, Message>,
    stream: SplitStream<Socket>,
    stop: PushStop,
    options: PushOptions,
}

/// What the client sent first.
enum First {
    Bytes(Bytes),
    /// Closed, failed or sent something that is not a binary frame.
    Gone,
    Unexpected(&'static str),
}

impl Session {
    async fn serve<E: DsEndpoint>(&mut self, endpoint: &E) {
        let ending = self.subscribe_and_push(endpoint).await;
        if let Some(ending) = ending {
            self.close(ending).await;
        }
    }

    /// The whole session; `None` when the peer is gone already (nothing
    /// left to close).
    async fn subscribe_and_push<E: DsEndpoint>(&mut self, endpoint: &E) -> Option<Ending> {
        let first = tokio::select! {
            () = self.stop.stopped() => return Some(Ending::new(CloseCode::Away, "server shutting down")),
            first = timeout(self.options.first_frame_timeout, first_frame(&mut self.stream)) => first,
        };
        let bytes = match first {
            Err(_elapsed) => {
                return Some(Ending::new(CloseCode::Policy, "no subscribe frame in time"));
            }
            Ok(First::Gone) => return None,
            Ok(First::Unexpected(what)) => return Some(Ending::new(CloseCode::Unsupported, what)),
            Ok(First::Bytes(bytes)) => bytes,
        };
        let opened = match QsRequest::decode(&bytes) {
            Ok(request) => endpoint.subscribe(request).await,
            Err(error) => Err(DsError::from(error)),
        };
        let mut feed = match opened {
            Ok(feed) => feed,
            Err(error) => {
                tracing::debug!(code = ?error.code, detail = %error.detail(), "subscribe refused");
                record_refused(error.code);
                self.send_error(error).await?;
                return Some(Ending::new(CloseCode::Policy, "subscribe refused"));
            }
        };
        let span = tracing::debug_span!("push", client = %feed.client_id());
        self.push(&mut feed).instrument(span).await
    }

    /// Pages as the feed yields them, pings, and the peer's frames, until
    /// one of them ends the session.
    async fn push(&mut self, feed: &mut Feed) -> Option<Ending> {
        tracing::debug!("push subscribed");
        let ping_every = self.options.ping_interval;
        let mut pings = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        // The subscribe frame counts as hearing from the peer.
        let mut heard = true;
        loop {
            tokio::select! {
                () = self.stop.stopped() => return Some(Ending::new(CloseCode::Away, "server shutting down")),
                page = feed.next_page() => match page {
                    Ok(page) => {
                        let entries = page.inbox.len() + page.group_entries.len();
                        let frame = QsResponse::new(QsResponseBody::Page(page)).encode();
                        match frame {
                            Ok(frame) => self.send(Message::binary(frame)).await?,
                            Err(error) => {
                                tracing::error!(%error, "a push page could not be encoded");
                                let error = DsError::new(DsErrorCode::InternalError, "a page could not be encoded");
                                self.send_error(error).await?;
                                return Some(Ending::new(CloseCode::Error, "internal error"));
                            }
                        }
                        record_pushed(entries);
                    }
                    Err(error) => {
                        let code = if error.code == DsErrorCode::InternalError { CloseCode::Error } else { CloseCode::Policy };
                        self.send_error(error).await?;
                        return Some(Ending::new(code, "the feed ended"));
                    }
                },
                incoming = self.stream.next() => match incoming {
                    Some(Ok(Message::Binary(_) | Message::Text(_))) => {
                        return Some(Ending::new(CloseCode::Policy, "only the subscribe frame is read"));
                    }
                    Some(Ok(Message::Close(_))) => {
                        // The reply to the peer's close is queued; flush it.
                        let _ = timeout(self.options.close_timeout, self.sink.close()).await;
                        return None;
                    }
                    Some(Ok(_)) => heard = true,
                    Some(Err(error)) => {
                        tracing::debug!(%error, "push connection failed");
                        return None;
                    }
                    None => return None,
                },
                _ = pings.tick() => {
                    if !heard {
                        return Some(Ending::new(CloseCode::Policy, "no pong within the ping interval"));
                    }
                    heard = false;
                    self.send(Message::Ping(Bytes::new())).await?;
                }
            }
        }
    }

    /// Sends one frame; `None` if the peer is gone, did not take it within
    /// a ping interval, or shutdown began meanwhile.
    async fn send(&mut self, message: Message) -> Option<()> {
        let within = self.options.ping_interval;
        tokio::select! {
            () = self.stop.stopped() => None,
            sent = timeout(within, self.sink.send(message)) => match sent {
                Ok(Ok(())) => Some(()),
                Ok(Err(error)) => {
                    tracing::debug!(%error, "push frame not sent");
                    None
                }
                Err(_elapsed) => {
                    tracing::debug!("push peer did not read within the ping interval");
                    None
                }
            },
        }
    }

    /// Sends a `QSResponse` with `error`.
    async fn send_error(&mut self, error: DsError) -> Option<()> {
        let frame = QsResponse::new(QsResponseBody::Error(error))
            .encode()
            .or_else(|_| {
                QsResponse::new(QsResponseBody::Error(DsError::new(
                    DsErrorCode::InternalError,
                    "the refusal could not be encoded",
                )))
                .encode()
            });
        match frame {
            Ok(frame) => self.send(Message::binary(frame)).await,
            Err(_) => None,
        }
    }

    /// The closing handshake, bounded by the close timeout: send the close
    /// frame, then read until the peer's close (or anything ends it).
    async fn close(&mut self, ending: Ending) {
        let frame = CloseFrame {
            code: ending.code,
            reason: ending.reason.into(),
        };
        let limit: Duration = self.options.close_timeout;
        let _ = timeout(limit, async {
            if self.sink.send(Message::Close(Some(frame))).await.is_err() {
                return;
            }
            while let Some(Ok(message)) = self.stream.next().await {
                if message.is_close() {
                    break;
                }
            }
        })
        .await;
    }
}

/// Reads until the first data frame (pings before it are fine).
async fn first_frame(stream: &mut SplitStream<Socket>) -> First {
    loop {
        match stream.next().await {
            Some(Ok(Message::Binary(bytes))) => return First::Bytes(bytes),
            Some(Ok(Message::Text(_))) => {
                return First::Unexpected("frames are binary QSRequest/QSResponse encodings");
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return First::Gone,
            Some(Ok(_)) => continue,
        }
    }
}
