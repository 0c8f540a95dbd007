//! Opening one HTTP/2-over-TLS connection to a peer: TCP to the resolved
//! address, TLS with the peer's domain as server name, ALPN `h2` required,
//! then the HTTP/2 handshake; the connection runs on its own task.

use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::Domain;
use http_body_util::Full;
use hyper::client::conn::http2::{self, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::error::PeerError;

/// A request sender on an open connection; cheap to clone.
pub(crate) type Sender = SendRequest<Full<Bytes>>;

/// How often an idle connection is pinged, so a dead peer is noticed.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// Connects to `address` as `domain` within `timeout` (DNS, TCP, TLS and
/// the HTTP/2 handshake together).
pub(crate) async fn connect(
    connector: &TlsConnector,
    domain: &Domain,
    address: &str,
    timeout: Duration,
) -> Result<Sender, PeerError> {
    tokio::time::timeout(timeout, open(connector, domain, address, timeout))
        .await
        .map_err(|_| PeerError::Timeout {
            domain: domain.clone(),
            during: "connecting",
        })?
}

async fn open(
    connector: &TlsConnector,
    domain: &Domain,
    address: &str,
    keep_alive_timeout: Duration,
) -> Result<Sender, PeerError> {
    let connect_error = |detail: String| PeerError::Connect {
        domain: domain.clone(),
        address: address.to_owned(),
        detail,
    };
    let tls_error = |detail: String| PeerError::Tls {
        domain: domain.clone(),
        detail,
    };
    let server_name = ServerName::try_from(domain.as_str().to_owned())
        .map_err(|e| tls_error(format!("not a TLS server name: {e}")))?;
    let tcp = TcpStream::connect(address)
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let tls = connector
        .connect(server_name, tcp)
        .await
        .map_err(|e| tls_error(e.to_string()))?;
    if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err(tls_error(
            "the peer did not agree to HTTP/2 (ALPN h2)".into(),
        ));
    }
    let (sender, connection) = http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        .keep_alive_interval(KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(keep_alive_timeout)
        .handshake(TokioIo::new(tls))
        .await
        .map_err(|e| connect_error(format!("HTTP/2 handshake: {e}")))?;
    let peer = domain.clone();
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(peer = %peer, %error, "peer connection closed");
        }
    });
    Ok(sender)
}
