//! Live push (spec §13.8): a WebSocket to the home DS's `/mimi/v1/push`,
//! subscribed from the processed positions with a signed `subscribe`
//! frame; every page it receives is applied like a sync page and wakes the
//! application. It is an optimisation only: when the connection fails it
//! is opened again after a backoff from the positions processed by then,
//! and [`Client::next_event`](crate::Client::next_event) syncs by itself
//! when nothing arrives for a while.

use std::sync::Arc;
use std::time::Duration;

use ds_core::wire::{QsRequestBody, QsResponse, QsResponseBody, SyncRequest};
use futures_util::{SinkExt as _, StreamExt as _};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Shared;
use crate::error::{Error, Result};
use crate::transport::{PUSH_PATH, Transport};

/// First pause after a failed connection; doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// Longest pause between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Keeps a push connection open for as long as the client lives.
pub async fn run(shared: Arc<Shared>) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match session(&shared).await {
            Ok(()) => backoff = MIN_BACKOFF,
            Err(e) => tracing::debug!(error = %e, "live push connection ended"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: open, subscribe, apply pages until it ends.
async fn session(shared: &Shared) -> Result<()> {
    let (home, address, subscribe) = {
        let inner = shared.inner.lock().await;
        let body = QsRequestBody::Subscribe(SyncRequest {
            after: inner.positions()?,
            max_entries: 0,
        });
        let request = inner.identity.qs_request(&inner.provider, body)?;
        let home = inner.transport.home().clone();
        let address = inner.transport.address(&home);
        let frame = request
            .encode()
            .map_err(|e| Error::mls("encoding subscribe", e))?;
        (home, address, frame)
    };
    let refused = |detail: String| Error::Protocol {
        domain: home.to_string(),
        operation: "subscribe",
        detail,
    };
    let tcp = TcpStream::connect(&address)
        .await
        .map_err(|e| refused(format!("connect {address}: {e}")))?;
    let name = ServerName::try_from(home.as_str().to_owned())
        .map_err(|e| refused(format!("server name: {e}")))?;
    let tls = TlsConnector::from(shared.push_tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| refused(format!("TLS: {e}")))?;
    let url = format!("wss://{}{PUSH_PATH}", home.as_str());
    let (mut socket, _) = tokio_tungstenite::client_async(url, tls)
        .await
        .map_err(|e| refused(format!("WebSocket: {e}")))?;
    socket
        .send(Message::binary(subscribe))
        .await
        .map_err(|e| refused(format!("sending subscribe: {e}")))?;
    while let Some(frame) = socket.next().await {
        let frame = frame.map_err(|e| refused(format!("reading: {e}")))?;
        let bytes = match frame {
            Message::Binary(bytes) => bytes,
            Message::Close(_) => return Ok(()),
            _ => continue,
        };
        let response =
            QsResponse::decode(&bytes).map_err(|e| refused(format!("undecodable frame: {e}")))?;
        let page = match response.body {
            QsResponseBody::Page(page) => page,
            QsResponseBody::Error(error) => {
                return Err(Error::Refused {
                    domain: home.to_string(),
                    operation: "subscribe",
                    error,
                });
            }
            other => return Err(Transport::unexpected(&home, "subscribe", other)),
        };
        let mut inner = shared.inner.lock().await;
        let applied = inner.apply_page(&page).await?;
        if applied.joined > 0
            && let Err(e) = inner.top_up().await
        {
            tracing::debug!(error = %e, "topping up key packages failed");
        }
        drop(inner);
        if applied.events > 0 {
            shared.wake.notify_one();
        }
    }
    Ok(())
}
