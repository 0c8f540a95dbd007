//! The generator's client side: several TLS 1.3 + HTTP/2 connections to the
//! server, each carrying many concurrent streams, and typed helpers for the
//! DS (`/mimi/v1/ds`) and queue (`/mimi/v1/queue`) endpoints.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use ds_core::wire::{DsRequest, DsResponse, DsResponseBody, QsRequest, QsResponse, QsResponseBody};
use ds_server::http::MEDIA_TYPE;
use ds_server::tls::load_certificates;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Path of the DS endpoint.
pub const DS_PATH: &str = "/mimi/v1/ds";
/// Path of the queue endpoint.
pub const QUEUE_PATH: &str = "/mimi/v1/queue";

/// Why one request got no protocol answer.
#[derive(Debug)]
pub enum PostError {
    /// Connection, stream or body failure.
    Transport(String),
    /// An HTTP status other than 200.
    Status(StatusCode),
    /// A 200 whose body is not a response.
    Undecodable(String),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostError::Transport(e) => write!(f, "transport: {e}"),
            PostError::Status(s) => write!(f, "HTTP status {s}"),
            PostError::Undecodable(e) => write!(f, "undecodable answer: {e}"),
        }
    }
}

/// A pool of HTTP/2 connections; requests are spread over them by index.
#[derive(Clone)]
pub struct Pool {
    senders: Arc<Vec<SendRequest<Full<Bytes>>>>,
}

/// A client TLS configuration trusting exactly the certificates in `cert`, TLS
/// 1.3 only, offering only the protocol `alpn`.
pub fn tls_config(cert: &Path, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certificates(cert).expect("server certificate") {
        roots.add(c).expect("trust the server certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(config)
}

impl Pool {
    /// Opens `connections` HTTP/2 connections to `address`.
    pub async fn connect(address: SocketAddr, cert: &Path, connections: usize) -> Pool {
        Pool::connect_to(address, cert, "localhost", connections).await
    }

    /// Opens `connections` HTTP/2 connections to `address`, verifying a
    /// certificate for `name` under `roots` (a certificate or CA, PEM).
    pub async fn connect_to(
        address: SocketAddr,
        roots: &Path,
        name: &str,
        connections: usize,
    ) -> Pool {
        let connector = TlsConnector::from(tls_config(roots, b"h2"));
        let mut senders = Vec::with_capacity(connections);
        for _ in 0..connections.max(1) {
            let tcp = TcpStream::connect(address).await.expect("TCP connect");
            tcp.set_nodelay(true).expect("TCP_NODELAY");
            let name = ServerName::try_from(name.to_owned()).expect("server name");
            let tls = connector.connect(name, tcp).await.expect("TLS handshake");
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN h2");
            let (sender, connection) =
                hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                    .max_concurrent_reset_streams(0)
                    .handshake(TokioIo::new(tls))
                    .await
                    .expect("HTTP/2 handshake");
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    eprintln!("load: connection ended: {error}");
                }
            });
            senders.push(sender);
        }
        Pool {
            senders: Arc::new(senders),
        }
    }

    /// Posts `body` to `path` on connection `index % connections` and returns
    /// the response body of a `200`.
    pub async fn post(&self, index: usize, path: &str, body: Bytes) -> Result<Bytes, PostError> {
        let mut sender = self.senders[index % self.senders.len()].clone();
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("https://localhost{path}"))
            .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
            .body(Full::new(body))
            .map_err(|e| PostError::Transport(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| PostError::Transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| PostError::Transport(e.to_string()))?
            .to_bytes();
        if status == StatusCode::OK {
            Ok(bytes)
        } else {
            Err(PostError::Status(status))
        }
    }

    /// Posts an encoded `DSRequest` and decodes the `DSResponse` body.
    pub async fn ds_raw(&self, index: usize, body: Bytes) -> Result<DsResponseBody, PostError> {
        let bytes = self.post(index, DS_PATH, body).await?;
        DsResponse::decode(&bytes)
            .map(|r| r.body)
            .map_err(|e| PostError::Undecodable(e.to_string()))
    }

    /// Sends `request` to the DS endpoint; a failure is a bug in the set-up.
    pub async fn ds(&self, request: &DsRequest) -> DsResponseBody {
        let body = Bytes::from(request.encode().expect("encode DSRequest"));
        self.ds_raw(0, body).await.expect("DS request")
    }

    /// Sends `request` to the queue endpoint.
    pub async fn queue(
        &self,
        index: usize,
        request: &QsRequest,
    ) -> Result<QsResponseBody, PostError> {
        let body = Bytes::from(request.encode().expect("encode QSRequest"));
        let bytes = self.post(index, QUEUE_PATH, body).await?;
        QsResponse::decode(&bytes)
            .map(|r| r.body)
            .map_err(|e| PostError::Undecodable(e.to_string()))
    }
}
