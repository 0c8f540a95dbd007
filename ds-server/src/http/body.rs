//! What the protocol endpoints share: the transport checks of a protocol
//! request (method, media type, size), reading its body under the size
//! limit, and sending an encoded answer.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::metrics::{record_error, record_undecodable};
use super::responses::{self, Body, MEDIA_TYPE};

/// Why a body could not be read.
#[derive(Debug)]
enum BodyError {
    /// The body is larger than the limit.
    TooLarge,
    /// The connection failed while the body was read.
    Read(String),
}

/// The body of a protocol request, or the HTTP refusal for a request that
/// must not reach the protocol layer: 405 (not `POST`), 415 (not
/// `application/mimi-ds`), 413 (over `max_body`), 400 (unreadable).
pub(crate) async fn protocol_body<B>(
    request: Request<B>,
    max_body: usize,
) -> Result<Bytes, Response<Body>>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if request.method() != Method::POST {
        return Err(responses::method_not_allowed("POST"));
    }
    if !is_protocol_media_type(request.headers()) {
        return Err(responses::plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/mimi-ds\n",
        ));
    }
    if declared_too_large(request.headers(), max_body) {
        return Err(too_large());
    }
    match read_limited(request.into_body(), max_body).await {
        Ok(bytes) => Ok(bytes),
        Err(BodyError::TooLarge) => Err(too_large()),
        Err(BodyError::Read(error)) => {
            tracing::debug!(%error, "reading the request body failed");
            Err(responses::plain(
                StatusCode::BAD_REQUEST,
                "request body could not be read\n",
            ))
        }
    }
}

/// Counts a body that did not decode, by the code it is refused with.
pub(crate) fn count_undecodable(code: ds_core::wire::DsErrorCode) {
    record_error(code);
    record_undecodable(match code {
        ds_core::wire::DsErrorCode::UnsupportedVersion => "unsupported_version",
        _ => "malformed_message",
    });
}

/// `200` with the encoded answer; if `answer` could not be encoded (a bug),
/// the encoded `fallback` (an `InternalError` answer) instead.
pub(crate) fn protocol_answer(
    answer: Result<Vec<u8>, tls_codec::Error>,
    fallback: impl FnOnce() -> Result<Vec<u8>, tls_codec::Error>,
) -> Response<Body> {
    match answer {
        Ok(bytes) => responses::protocol(bytes),
        Err(error) => {
            tracing::error!(%error, "a response could not be encoded");
            match fallback() {
                Ok(bytes) => responses::protocol(bytes),
                Err(_) => responses::plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
            }
        }
    }
}

fn too_large() -> Response<Body> {
    responses::plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body exceeds the server's limit\n",
    )
}

/// Whether `Content-Type` is `application/mimi-ds` (parameters ignored).
fn is_protocol_media_type(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(MEDIA_TYPE))
}

/// Whether the declared `Content-Length` already exceeds `max`.
fn declared_too_large(headers: &HeaderMap, max: usize) -> bool {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > max as u64)
}

/// Reads the whole body, failing as soon as more than `max` bytes arrived.
async fn read_limited<B>(body: B, max: usize) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(error) => Err(BodyError::Read(error.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn media_type_ignores_parameters_and_case() {
        let mut headers = HeaderMap::new();
        assert!(!is_protocol_media_type(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/MIMI-DS; charset=binary"),
        );
        assert!(is_protocol_media_type(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(!is_protocol_media_type(&headers));
    }

    #[test]
    fn declared_length_over_the_limit_is_too_large() {
        let mut headers = HeaderMap::new();
        assert!(!declared_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(!declared_too_large(&headers, 10));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("11"));
        assert!(declared_too_large(&headers, 10));
    }
}
