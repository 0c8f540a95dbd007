//! How a test client reaches one DS: HTTPS (TLS 1.3, HTTP/2) to its
//! address, verifying a certificate for its domain against the test CA.
//! One fresh connection per request, so a restarted process (new port) is
//! reached as soon as its address is known; transport failures come back as
//! `Err` for the fault tests.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use ds_core::wire::{
    DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody, DsRequest, DsResponse, DsResponseBody,
    ProtocolVersion, QsRequest, QsResponse, QsResponseBody,
};
use ds_server::http::{DS_PATH, MEDIA_TYPE, QUEUE_PATH};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::transport::client_tls;

/// Where the guest DS takes fan-outs.
pub const FANOUT_PATH: &str = "/mimi/v1/fanout";

/// A DS as clients see it: an address and the name its certificate carries.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub domain: String,
    /// The CA certificate the client trusts.
    pub ca: PathBuf,
}

impl Endpoint {
    /// A TLS connection offering `alpn`, the server verified for `domain`.
    pub async fn tls(&self, alpn: &[u8]) -> Result<TlsStream<TcpStream>, String> {
        let connector = TlsConnector::from(client_tls(&self.ca, &[alpn]));
        let tcp = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        let name = ServerName::try_from(self.domain.clone()).unwrap();
        connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {}: {e}", self.domain))
    }

    /// POSTs `body` to `path`; the body of a `200` answer with the protocol
    /// media type, else `Err`.
    pub async fn post(&self, path: &str, body: Vec<u8>) -> Result<Bytes, String> {
        let tls = self.tls(b"h2").await?;
        let (mut sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("https://{}{path}", self.domain))
            .header(http::header::CONTENT_TYPE, MEDIA_TYPE)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!("HTTP status {}", response.status()));
        }
        let media = response.headers().get(http::header::CONTENT_TYPE).cloned();
        assert_eq!(
            media.as_ref().map(|v| v.as_bytes()),
            Some(MEDIA_TYPE.as_bytes())
        );
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        Ok(body.to_bytes())
    }

    /// A DS request; `Err` when the transport failed.
    pub async fn try_ds(&self, request: &DsRequest) -> Result<DsResponseBody, String> {
        let body = self.post(DS_PATH, request.encode().unwrap()).await?;
        let response = DsResponse::decode(&body).unwrap();
        assert_eq!(response.version, ProtocolVersion::V1);
        Ok(response.body)
    }

    /// A DS request that must reach the DS.
    pub async fn ds(&self, request: &DsRequest) -> DsResponseBody {
        self.try_ds(request)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.domain))
    }

    /// A queue request that must reach the DS.
    pub async fn qs(&self, request: &QsRequest) -> QsResponseBody {
        let body = self
            .post(QUEUE_PATH, request.encode().unwrap())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.domain));
        let response = QsResponse::decode(&body).unwrap();
        assert_eq!(response.version, ProtocolVersion::V1);
        response.body
    }

    /// Posts an encoded fan-out request as it is (a DS talking to this one).
    pub async fn fanout_raw(&self, body: Vec<u8>) -> DsFanoutResponseBody {
        let body = self
            .post(FANOUT_PATH, body)
            .await
            .unwrap_or_else(|e| panic!("fan-out to {}: {e}", self.domain));
        let response = DsFanoutResponse::decode(&body).unwrap();
        assert_eq!(response.version, ProtocolVersion::V1);
        response.body
    }

    /// Posts a fan-out request.
    pub async fn fanout(&self, request: &DsFanoutRequest) -> DsFanoutResponseBody {
        self.fanout_raw(request.encode().unwrap()).await
    }

    /// [`Endpoint::ds`] from the synchronous join callback of the harness.
    pub fn ds_blocking(&self, request: &DsRequest) -> DsResponseBody {
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(self.ds(request)))
    }
}
