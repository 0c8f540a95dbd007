//! An HTTP/2 client over one TLS connection that keeps the response headers
//! (`Retry-After`), so many requests arrive in quick succession from one
//! address.

use bytes::Bytes;
use ds_core::wire::{
    DsErrorCode, DsRequest, DsResponse, DsResponseBody, QsRequest, QsResponse, QsResponseBody,
};
use ds_server::http::{DS_PATH, MEDIA_TYPE, QUEUE_PATH};
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::server::Server;
use crate::transport::{Proto, connect_to};

/// An answer with the headers the tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: Option<String>,
    /// `Retry-After` in seconds, if sent.
    pub retry_after: Option<u64>,
    pub body: Bytes,
}

impl Reply {
    /// The code of a `DSResponse` error body.
    pub fn ds_error(&self) -> Option<DsErrorCode> {
        match DsResponse::decode(&self.body).unwrap().body {
            DsResponseBody::Error(e) => Some(e.code),
            _ => None,
        }
    }

    /// The decoded `QSResponse` body.
    pub fn qs_body(&self) -> QsResponseBody {
        QsResponse::decode(&self.body).unwrap().body
    }

    /// Whether this is a `429` as spec §12 defines it: `Retry-After` of at
    /// least a second and a protocol body.
    pub fn is_rate_limited(&self) -> bool {
        self.status == StatusCode::TOO_MANY_REQUESTS
            && self.retry_after.is_some_and(|s| s >= 1)
            && self.content_type.as_deref() == Some(MEDIA_TYPE)
    }
}

/// One HTTP/2 connection to the public listener.
pub struct H2 {
    sender: SendRequest<Full<Bytes>>,
}

impl H2 {
    pub async fn open(server: &Server) -> Self {
        let tls = connect_to(server.public, &server.cert, Proto::H2).await;
        let (sender, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        Self { sender }
    }

    /// `POST path` with a protocol body.
    pub async fn post(&mut self, path: &str, body: Vec<u8>) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("https://localhost{path}"))
            .header(CONTENT_TYPE, MEDIA_TYPE)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        send(&mut self.sender, request).await
    }

    pub async fn ds(&mut self, request: &DsRequest) -> Reply {
        self.post(DS_PATH, request.encode().unwrap()).await
    }

    pub async fn queue(&mut self, request: &QsRequest) -> Reply {
        self.post(QUEUE_PATH, request.encode().unwrap()).await
    }
}

async fn send(sender: &mut SendRequest<Full<Bytes>>, request: Request<Full<Bytes>>) -> Reply {
    sender.ready().await.unwrap();
    let response = sender.send_request(request).await.unwrap();
    reply(response).await
}

/// Collects a response into a [`Reply`].
pub async fn reply(response: http::Response<hyper::body::Incoming>) -> Reply {
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let content_type = header(CONTENT_TYPE);
    let retry_after = header(RETRY_AFTER).map(|v| v.parse().unwrap());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        content_type,
        retry_after,
        body,
    }
}
