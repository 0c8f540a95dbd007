//! `POST /mimi/v1/ds`: a `DSRequest` in, a `DSResponse` out (spec §12).

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, DsRequest, DsResponse, DsResponseBody};
use http::{Request, Response};

use super::body::{count_undecodable, protocol_answer, protocol_body};
use super::endpoint::DsEndpoint;
use super::responses::Body;

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
    let bytes = match protocol_body(request, max_body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    let body = match DsRequest::decode(&bytes) {
        Ok(request) => {
            tracing::Span::current().record("operation", request.body.operation().name());
            endpoint.handle(request).await
        }
        Err(error) => {
            tracing::debug!(%error, "undecodable DS request");
            let error = DsError::from(error);
            count_undecodable(error.code);
            DsResponseBody::Error(error)
        }
    };
    protocol_answer(DsResponse::new(body).encode(), || {
        DsResponse::new(DsResponseBody::Error(DsError::new(
            DsErrorCode::InternalError,
            "the response could not be encoded",
        )))
        .encode()
    })
}
