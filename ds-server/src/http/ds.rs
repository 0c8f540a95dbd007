//! `POST /mimi/v1/ds`: a `DSRequest` in, a `DSResponse` out (spec §12).

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, DsRequest, DsResponse, DsResponseBody};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, Method, Request, Response, StatusCode};

use super::body::{BodyError, declared_too_large, read_limited};
use super::endpoint::DsEndpoint;
use super::metrics::record_undecodable;
use super::responses::{self, Body, MEDIA_TYPE};

/// Path of the client-to-server endpoint.
pub const DS_PATH: &str = "/mimi/v1/ds";

/// Answers one request to [`DS_PATH`]: transport refusals (method, media
/// type, size) as HTTP statuses, everything that reaches the protocol layer
/// as `200` with an encoded `DSResponse`.
pub(crate) async fn handle<E, B>(
    request: Request<B>,
    endpoint: &E,
    max_body: usize,
) -> Response<Body>
where
    E: DsEndpoint,
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if request.method() != Method::POST {
        return responses::method_not_allowed("POST");
    }
    if !is_protocol_media_type(request.headers()) {
        return responses::plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/mimi-ds\n",
        );
    }
    if declared_too_large(request.headers(), max_body) {
        return too_large();
    }
    let bytes = match read_limited(request.into_body(), max_body).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Read(error)) => {
            tracing::debug!(%error, "reading the request body failed");
            return responses::plain(StatusCode::BAD_REQUEST, "request body could not be read\n");
        }
    };
    let body = match DsRequest::decode(&bytes) {
        Ok(request) => {
            tracing::Span::current().record("operation", request.body.operation().name());
            endpoint.handle(request).await
        }
        Err(error) => {
            tracing::debug!(%error, "undecodable DS request");
            let error = DsError::from(error);
            record_undecodable(match error.code {
                DsErrorCode::UnsupportedVersion => "unsupported_version",
                _ => "malformed_message",
            });
            DsResponseBody::Error(error)
        }
    };
    encode(body)
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

/// Encodes a version-1 response; a body that cannot be encoded (a bug) is
/// replaced by `InternalError`.
fn encode(body: DsResponseBody) -> Response<Body> {
    match DsResponse::new(body).encode() {
        Ok(bytes) => responses::protocol(bytes),
        Err(error) => {
            tracing::error!(%error, "a DS response could not be encoded");
            let fallback = DsResponse::new(DsResponseBody::Error(DsError::new(
                DsErrorCode::InternalError,
                "the response could not be encoded",
            )));
            match fallback.encode() {
                Ok(bytes) => responses::protocol(bytes),
                Err(_) => responses::plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
            }
        }
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
}
