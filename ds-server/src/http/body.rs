//! Reading a request body under the size limit.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is larger than the limit.
    TooLarge,
    /// The connection failed while the body was read.
    Read(String),
}

/// Whether the declared `Content-Length` already exceeds `max`.
pub(crate) fn declared_too_large(headers: &HeaderMap, max: usize) -> bool {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|len| len > max as u64)
}

/// Reads the whole body, failing as soon as more than `max` bytes arrived.
pub(crate) async fn read_limited<B>(body: B, max: usize) -> Result<Bytes, BodyError>
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
