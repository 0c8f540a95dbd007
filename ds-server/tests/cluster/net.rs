//! A fallible HTTP/2 client for servers that may die mid-test: one TLS
//! connection, many concurrent streams, errors returned instead of panics.

use std::net::SocketAddr;
use std::path::Path;

use bytes::Bytes;
use ds_core::wire::{DsRequest, DsResponse, DsResponseBody, QsRequest, QsResponse, QsResponseBody};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::transport::{client_tls, request};

/// One HTTP/2 connection to a DS; clones share it.
#[derive(Clone)]
pub struct H2 {
    sender: SendRequest<Full<Bytes>>,
}

impl H2 {
    /// Connects to `addr`, trusting `cert`.
    pub async fn connect(addr: SocketAddr, cert: &Path) -> Result<Self, String> {
        let connector = TlsConnector::from(client_tls(cert, &[b"h2"]));
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Self { sender })
    }

    async fn post(&self, path: &str, body: Vec<u8>) -> Result<Bytes, String> {
        let mut sender = self.sender.clone();
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request(http::Method::POST, path, body))
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("HTTP status {}", response.status()));
        }
        Ok(response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes())
    }

    /// A DS request; `Err` when the transport failed (outcome unknown).
    pub async fn ds(&self, request: &DsRequest) -> Result<DsResponseBody, String> {
        let body = self
            .post(ds_server::http::DS_PATH, request.encode().unwrap())
            .await?;
        Ok(DsResponse::decode(&body).unwrap().body)
    }

    /// A queue request; `Err` when the transport failed.
    pub async fn qs(&self, request: &QsRequest) -> Result<QsResponseBody, String> {
        let body = self
            .post("/mimi/v1/queue", request.encode().unwrap())
            .await?;
        Ok(QsResponse::decode(&body).unwrap().body)
    }
}
