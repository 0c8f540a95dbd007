//! `POST /mimi/v1/ds`: a `DSRequest` in, a `DSResponse` out (spec §12).

use std::time::{Duration, Instant};

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, DsRequest, DsResponse, DsResponseBody};
use http::{Request, Response};

use super::body::{count_undecodable, protocol_answer, protocol_body};
use super::endpoint::DsEndpoint;
use super::metrics::record_operation;
use super::metrics::result_name;
use super::rate_limit;
use super::responses::{self, Body};

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
            let operation = request.body.operation().name();
            let span = tracing::Span::current();
            span.record("operation", operation);
            if let Some(group) = request.group_id() {
                span.record("group", group.as_str());
            }
            let started = Instant::now();
            let body = endpoint.handle(request).await;
            let error = match &body {
                DsResponseBody::Error(error) => Some(error.code),
                _ => None,
            };
            span.record("result", result_name(error).as_str());
            record_operation("ds", operation, error, started.elapsed());
            body
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

/// `429` with a `RateLimited` `DSResponse` for a request that arrived while
/// its source address was over its rate; nothing of it was read.
pub(crate) fn rate_limited(wait: Duration) -> Response<Body> {
    let error = rate_limit::refusal("this address", wait);
    let answer = protocol_answer(
        DsResponse::new(DsResponseBody::Error(error)).encode(),
        || {
            DsResponse::new(DsResponseBody::Error(DsError::new(
                DsErrorCode::RateLimited,
                "too many requests; see Retry-After",
            )))
            .encode()
        },
    );
    responses::too_many_requests(answer, wait)
}
