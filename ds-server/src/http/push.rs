//! `GET /mimi/v1/push`: the live-push channel (spec §13, "Live push"), a
//! WebSocket on the public listener. Over HTTP/1.1 it is the RFC 6455
//! upgrade; over HTTP/2 the RFC 8441 extended CONNECT with `:protocol
//! websocket`. This file checks the opening handshake and answers it; the
//! WebSocket session itself runs in [`session`] once hyper hands over the
//! connection (HTTP/1.1) or stream (HTTP/2).

mod session;

use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    CONNECTION, HeaderMap, HeaderValue, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Request, Response, StatusCode, Version};
use http_body_util::Full;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::endpoint::DsEndpoint;
use super::responses::{self, Body};

/// Path of the live-push channel.
pub const PUSH_PATH: &str = "/mimi/v1/push";

/// What a push request needs from the listener: the endpoint, owned, since
/// the session outlives the request; and the listener's stop signal. The
/// listener puts it into the extensions of every request to [`PUSH_PATH`].
#[derive(Debug)]
pub(crate) struct PushContext<E> {
    pub endpoint: Arc<E>,
    pub stop: PushStop,
}

impl<E> Clone for PushContext<E> {
    fn clone(&self) -> Self {
        Self {
            endpoint: Arc::clone(&self.endpoint),
            stop: self.stop.clone(),
        }
    }
}

/// The listener's shutdown as seen by push sessions. Sessions hold a clone
/// while they run, so the listener can wait for all of them to close
/// ([`watch::Sender::closed`]).
#[derive(Debug, Clone)]
pub(crate) struct PushStop(watch::Receiver<bool>);

impl PushStop {
    /// The sender (send `true` to stop every session) and the first receiver.
    pub(crate) fn channel() -> (watch::Sender<bool>, Self) {
        let (sender, receiver) = watch::channel(false);
        (sender, Self(receiver))
    }

    /// Completes once shutdown began (or the listener is gone).
    pub(crate) async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// How the client asked to open the WebSocket.
enum Opening {
    /// HTTP/1.1 `Upgrade: websocket`; answer `101` with this accept key.
    Upgrade { accept: String },
    /// HTTP/2 extended CONNECT; answer `200`.
    ExtendedConnect,
}

/// Answers a request to [`PUSH_PATH`]: a valid opening handshake gets `101`
/// (HTTP/1.1) or `200` (HTTP/2) and a session task; anything else a plain
/// text refusal.
pub(crate) async fn handle<E, B>(mut request: Request<B>, max_message: usize) -> Response<Body>
where
    E: DsEndpoint,
{
    let Some(context) = request.extensions_mut().remove::<PushContext<E>>() else {
        return responses::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "live push is not available on this listener\n",
        );
    };
    let opening = match opening(&request) {
        Ok(opening) => opening,
        Err(refusal) => return refusal.response(),
    };
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(session::run(
        upgrade,
        context.endpoint,
        context.stop,
        max_message,
    ));
    match opening {
        Opening::Upgrade { accept } => {
            let mut response = empty(StatusCode::SWITCHING_PROTOCOLS);
            let headers = response.headers_mut();
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
            match HeaderValue::from_str(&accept) {
                Ok(value) => {
                    headers.insert(SEC_WEBSOCKET_ACCEPT, value);
                }
                // The accept key is base64, always a valid header value.
                Err(_) => {
                    return responses::plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
                }
            }
            response
        }
        Opening::ExtendedConnect => empty(StatusCode::OK),
    }
}

/// Why an opening handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// HTTP/1.1 without `Upgrade: websocket` and `Connection: upgrade`.
    NotAnUpgrade,
    /// HTTP/1.1 with a method other than `GET`.
    Method,
    /// HTTP/2 without an extended CONNECT for `websocket`.
    NotExtendedConnect,
    /// `Sec-WebSocket-Version` is not 13.
    Version,
    /// `Sec-WebSocket-Key` missing or not 16 bytes in base64.
    Key,
}

impl Refusal {
    fn response(self) -> Response<Body> {
        match self {
            Self::NotAnUpgrade => upgrade_required(
                "live push needs a WebSocket upgrade (RFC 6455): Upgrade: websocket\n",
            ),
            Self::Method => responses::method_not_allowed("GET"),
            Self::NotExtendedConnect => responses::plain(
                StatusCode::BAD_REQUEST,
                "over HTTP/2, live push is an extended CONNECT (RFC 8441) with :protocol websocket\n",
            ),
            Self::Version => {
                let mut response = upgrade_required("WebSocket version 13 is required\n");
                response
                    .headers_mut()
                    .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
                response
            }
            Self::Key => responses::plain(
                StatusCode::BAD_REQUEST,
                "Sec-WebSocket-Key must be 16 bytes in base64\n",
            ),
        }
    }
}

/// Checks the opening handshake (RFC 6455 §4.2.1, RFC 8441 §5).
fn opening<B>(request: &Request<B>) -> Result<Opening, Refusal> {
    let headers = request.headers();
    if request.version() == Version::HTTP_2 {
        let websocket = request
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"));
        if request.method() != Method::CONNECT || !websocket {
            return Err(Refusal::NotExtendedConnect);
        }
        check_version(headers)?;
        return Ok(Opening::ExtendedConnect);
    }
    if request.method() != Method::GET {
        return Err(Refusal::Method);
    }
    if !has_token(headers, UPGRADE, "websocket") || !has_token(headers, CONNECTION, "upgrade") {
        return Err(Refusal::NotAnUpgrade);
    }
    check_version(headers)?;
    let key = headers
        .get(SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .filter(|key| key.len() == 24)
        .ok_or(Refusal::Key)?;
    Ok(Opening::Upgrade {
        accept: derive_accept_key(key),
    })
}

/// Only WebSocket version 13 exists (RFC 6455 §4.4).
fn check_version(headers: &HeaderMap) -> Result<(), Refusal> {
    if headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v.as_bytes() == b"13")
    {
        Ok(())
    } else {
        Err(Refusal::Version)
    }
}

/// `426 Upgrade Required` naming the protocol to upgrade to.
fn upgrade_required(text: &'static str) -> Response<Body> {
    let mut response = responses::plain(StatusCode::UPGRADE_REQUIRED, text);
    response
        .headers_mut()
        .insert(UPGRADE, HeaderValue::from_static("websocket"));
    response
}

/// Whether the comma-separated header `name` holds `token` (any case).
fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::get(PUSH_PATH);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap_or_else(|e| panic!("{e}"))
    }

    const VALID: [(&str, &str); 4] = [
        ("upgrade", "websocket"),
        ("connection", "keep-alive, Upgrade"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_rfc_6455_example_key_is_accepted() {
        match opening(&get(&VALID)) {
            Ok(Opening::Upgrade { accept }) => {
                assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            }
            _ => panic!("a valid handshake was refused"),
        }
    }

    #[test]
    fn incomplete_handshakes_are_refused_with_a_reason() {
        let refusal = |headers: &[(&str, &str)]| match opening(&get(headers)) {
            Ok(_) => panic!("accepted {headers:?}"),
            Err(refusal) => refusal,
        };
        assert_eq!(refusal(&[]), Refusal::NotAnUpgrade);
        assert_eq!(refusal(&VALID[1..]), Refusal::NotAnUpgrade);
        let mut old_version = VALID;
        old_version[2] = ("sec-websocket-version", "8");
        assert_eq!(refusal(&old_version), Refusal::Version);
        assert_eq!(refusal(&VALID[..3]), Refusal::Key);
        let post = Request::post(PUSH_PATH)
            .body(())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(opening(&post), Err(Refusal::Method)));
        assert_eq!(
            Refusal::NotAnUpgrade.response().status(),
            StatusCode::UPGRADE_REQUIRED
        );
        assert_eq!(
            Refusal::Version.response().headers()[SEC_WEBSOCKET_VERSION],
            "13"
        );
    }
}
