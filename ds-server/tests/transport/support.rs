//! Test doubles, a server on loopback ports, and a TLS HTTP client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::{
    DsAuthData, DsError, DsErrorCode, DsRequest, DsRequestBody, DsResponse, DsResponseBody,
    ProtocolVersion,
};
use ds_server::app::App;
use ds_server::http::{DsEndpoint, Limits, MEDIA_TYPE, Readiness};
use ds_server::telemetry;
use ds_server::tls;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use metrics_exporter_prometheus::PrometheusHandle;
use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

/// Transport-only test double: answers `ok` to `ds_signature_public_key`
/// and `UnsupportedOperation` to everything else. It exists to exercise the
/// transport; the real endpoint is tested by the service's own tests.
#[derive(Debug)]
pub struct TransportDouble;

impl DsEndpoint for TransportDouble {
    async fn handle(&self, request: DsRequest) -> DsResponseBody {
        match request.body {
            DsRequestBody::SignaturePublicKey => DsResponseBody::Ok,
            other => DsResponseBody::Error(DsError::new(
                DsErrorCode::UnsupportedOperation,
                format!(
                    "{} is not handled by the test double",
                    other.operation().name()
                ),
            )),
        }
    }
}

/// Test double that holds every request until released, to have one in
/// flight during shutdown. Clones share the gate.
#[derive(Debug, Clone, Default)]
pub struct GatedEndpoint(Arc<Gate>);

#[derive(Debug, Default)]
struct Gate {
    arrived: Notify,
    release: Notify,
}

impl GatedEndpoint {
    /// Waits until a request reached the endpoint.
    pub async fn arrived(&self) {
        self.0.arrived.notified().await;
    }

    /// Lets the waiting request complete.
    pub fn release(&self) {
        self.0.release.notify_one();
    }
}

impl DsEndpoint for GatedEndpoint {
    async fn handle(&self, _request: DsRequest) -> DsResponseBody {
        self.0.arrived.notify_one();
        self.0.release.notified().await;
        DsResponseBody::Ok
    }
}

/// The process-wide Prometheus recorder (installed once per test binary).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| telemetry::install_metrics_recorder().unwrap())
        .clone()
}

/// A running [`App`] on loopback ports with a fresh development certificate.
pub struct TestServer {
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub cert: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start<E: DsEndpoint>(endpoint: E, limits: Limits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let dev = tls::ensure_dev_cert(dir.path(), "localhost").unwrap();
        let tls_config = tls::server_config(&dev.cert, &dev.key).unwrap();
        let public = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (public_addr, admin_addr) = (public.local_addr().unwrap(), admin.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let app = App {
            tls: tls_config,
            endpoint: Arc::new(endpoint),
            limits,
            metrics: Some(metrics_handle()),
            readiness: Readiness::new(),
            operator: None,
        };
        let task = tokio::spawn(app.run(public, admin, async move {
            let _ = stopped.await;
        }));
        Self {
            public: public_addr,
            admin: admin_addr,
            cert: dev.cert,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// Signals shutdown (like SIGTERM in the binary).
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Shuts down and waits until the server has stopped.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("server did not stop")
            .unwrap();
    }

    /// Whether the server task has finished.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

/// HTTP version the client offers via ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    H2,
    Http1,
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<String>,
    pub body: Bytes,
    /// The ALPN protocol the server selected.
    pub alpn: Option<Vec<u8>>,
    /// The HTTP version of the response.
    pub version: http::Version,
}

impl Answer {
    /// The body as a decoded `DSResponse`.
    pub fn ds_response(&self) -> DsResponse {
        assert_eq!(self.status, StatusCode::OK, "body: {:?}", self.body);
        assert_eq!(self.content_type.as_deref(), Some(MEDIA_TYPE));
        DsResponse::decode(&self.body).unwrap()
    }

    /// The error code of a decoded `DSResponse` that must be an error.
    pub fn ds_error_code(&self) -> DsErrorCode {
        match self.ds_response().body {
            DsResponseBody::Error(e) => e.code,
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

/// A client TLS configuration that trusts exactly `cert` and offers `alpn`.
pub fn client_tls(cert: &Path, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in tls::load_certificates(cert).unwrap() {
        roots.add(c).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// A TLS connection to the server, offering only `proto`.
pub async fn connect(
    server: &TestServer,
    proto: Proto,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    connect_to(server.public, &server.cert, proto).await
}

pub async fn connect_to(
    addr: SocketAddr,
    cert: &Path,
    proto: Proto,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let alpn: &[&[u8]] = match proto {
        Proto::H2 => &[b"h2"],
        Proto::Http1 => &[b"http/1.1"],
    };
    let connector = TlsConnector::from(client_tls(cert, alpn));
    let tcp = TcpStream::connect(addr).await.unwrap();
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

/// Sends one request over a fresh TLS connection.
pub async fn send(server: &TestServer, proto: Proto, request: Request<Full<Bytes>>) -> Answer {
    send_to(server.public, &server.cert, proto, request).await
}

pub async fn send_to(
    addr: SocketAddr,
    cert: &Path,
    proto: Proto,
    request: Request<Full<Bytes>>,
) -> Answer {
    let stream = connect_to(addr, cert, proto).await;
    let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let io = TokioIo::new(stream);
    let response = match proto {
        Proto::H2 => {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(conn);
            sender.send_request(request).await.unwrap()
        }
        Proto::Http1 => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            sender.send_request(request).await.unwrap()
        }
    };
    let status = response.status();
    let version = response.version();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        content_type,
        body,
        alpn,
        version,
    }
}

/// A request to `path` with the protocol media type.
pub fn request(method: Method, path: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("https://localhost{path}"))
        .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Full::new(body.into()))
        .unwrap()
}

/// `POST /mimi/v1/ds` with `body`.
pub fn ds_post(body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    request(Method::POST, ds_server::http::DS_PATH, body)
}

/// An encoded, well-formed `ds_signature_public_key` request.
pub fn signature_key_request() -> Vec<u8> {
    DsRequest {
        version: ProtocolVersion::V1,
        body: DsRequestBody::SignaturePublicKey,
        auth: DsAuthData::Anonymous,
    }
    .encode()
    .unwrap()
}

/// An encoded, well-formed `ds_request_group_id` request.
pub fn request_group_id_request() -> Vec<u8> {
    DsRequest {
        version: ProtocolVersion::V1,
        body: DsRequestBody::RequestGroupId,
        auth: DsAuthData::Anonymous,
    }
    .encode()
    .unwrap()
}

/// Plain HTTP/1.1 GET against the admin listener: status and body.
pub async fn admin_get(addr: SocketAddr, path: &str) -> (StatusCode, String) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = Request::get(path)
        .header(http::header::HOST, addr.to_string())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
