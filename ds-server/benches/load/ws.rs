//! A WebSocket client over TLS 1.3 + HTTP/1.1 (the RFC 6455 upgrade), for
//! the live-push channel.

use std::net::SocketAddr;
use std::path::Path;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

use crate::net::tls_config;

/// Opens a WebSocket to `path` on the server, trusting only `cert`.
pub async fn connect(
    address: SocketAddr,
    cert: &Path,
    path: &str,
) -> WebSocketStream<TlsStream<TcpStream>> {
    connect_to(address, cert, "localhost", path).await
}

/// Opens a WebSocket to `path` on the server, verifying a certificate for
/// `name` under `roots`.
pub async fn connect_to(
    address: SocketAddr,
    roots: &Path,
    name: &str,
    path: &str,
) -> WebSocketStream<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(address).await.expect("TCP connect");
    tcp.set_nodelay(true).expect("TCP_NODELAY");
    let server_name = ServerName::try_from(name.to_owned()).expect("server name");
    let tls = TlsConnector::from(tls_config(roots, b"http/1.1"))
        .connect(server_name, tcp)
        .await
        .expect("TLS handshake");
    let url = format!("wss://{name}{path}");
    let (socket, _response) = tokio_tungstenite::client_async(url, tls)
        .await
        .expect("WebSocket handshake");
    socket
}
