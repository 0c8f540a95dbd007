//! Building HTTP responses without fallible builders.

use std::time::Duration;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use http::{Response, StatusCode};
use http_body_util::Full;

/// Media type of every protocol body (spec §12).
pub const MEDIA_TYPE: &str = "application/mimi-ds";

/// The response body type of both listeners.
pub type Body = Full<Bytes>;

/// A response with `status` and a short plain-text explanation.
pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    with_type(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(text.as_bytes()),
    )
}

/// `405 Method Not Allowed` naming the one allowed method.
pub(crate) fn method_not_allowed(allowed: &'static str) -> Response<Body> {
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allowed));
    response
}

/// `200 OK` carrying an encoded protocol message.
pub(crate) fn protocol(bytes: Vec<u8>) -> Response<Body> {
    with_type(StatusCode::OK, MEDIA_TYPE, Bytes::from(bytes))
}

/// `response` turned into `429 Too Many Requests` with `Retry-After`
/// (whole seconds, at least 1) for a client that must wait `wait`.
pub(crate) fn too_many_requests(mut response: Response<Body>, wait: Duration) -> Response<Body> {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(
        RETRY_AFTER,
        HeaderValue::from(super::rate_limit::retry_after_secs(wait)),
    );
    response
}

/// A response with `status`, `content_type` and `body`.
pub(crate) fn with_type(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
