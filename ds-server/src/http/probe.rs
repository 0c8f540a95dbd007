//! A minimal HTTP/1.1 client for the admin endpoints (`mimi-ds healthcheck`
//! and `mimi-ds admin …`).

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a probe got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The URL is not `http://host:port[/path]`.
    #[error("invalid admin URL {url:?}: {reason}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Connecting or talking HTTP failed.
    #[error("request to {url} failed: {reason}")]
    Request {
        /// The URL probed.
        url: String,
        /// The failure.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("no answer from {0} within the timeout")]
    Timeout(String),
}

/// Most bytes of an admin answer's body that are read.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// An admin endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAnswer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

/// Sends `GET {base}{path}` (plain HTTP) and returns the status.
///
/// `base` is `http://host:port` or `host:port`; any path in it is replaced.
pub async fn get_status(
    base: &str,
    path: &str,
    timeout: Duration,
) -> Result<StatusCode, ProbeError> {
    Ok(request(base, Method::GET, path, timeout).await?.status)
}

/// Sends `{method} {base}{path}` (plain HTTP, no body) and returns the
/// status and body. `base` is as for [`get_status`].
pub async fn request(
    base: &str,
    method: Method,
    path: &str,
    timeout: Duration,
) -> Result<AdminAnswer, ProbeError> {
    let with_scheme = if base.contains("://") {
        base.to_owned()
    } else {
        format!("http://{base}")
    };
    let uri: Uri = with_scheme.parse().map_err(|_| ProbeError::Url {
        url: base.to_owned(),
        reason: "not a URL",
    })?;
    if uri.scheme_str() != Some("http") {
        return Err(ProbeError::Url {
            url: base.to_owned(),
            reason: "the admin listener speaks plain http://",
        });
    }
    let authority = uri
        .authority()
        .filter(|a| a.port_u16().is_some())
        .ok_or(ProbeError::Url {
            url: base.to_owned(),
            reason: "expected host:port",
        })?
        .clone();
    let target = format!("http://{authority}{path}");
    tokio::time::timeout(timeout, fetch(authority.as_str(), method, path))
        .await
        .map_err(|_| ProbeError::Timeout(target.clone()))?
        .map_err(|reason| ProbeError::Request {
            url: target,
            reason,
        })
}

async fn fetch(authority: &str, method: Method, path: &str) -> Result<AdminAnswer, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let answer = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(AdminAnswer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
    .await;
    driver.abort();
    answer
}
