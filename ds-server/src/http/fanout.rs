//! `POST /mimi/v1/fanout`: a `DSFanoutRequest` from another domain's DS in,
//! a `DSFanoutResponse` out (spec §11, §12). The transport checks are those
//! of `POST /mimi/v1/ds`; the signature and everything else are checked by
//! the receiving service.

use std::time::{Duration, Instant};

use bytes::Bytes;
use ds_core::wire::{
    DsError, DsErrorCode, DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody,
};
use http::{Request, Response};

use super::body::{count_undecodable, protocol_answer, protocol_body};
use super::endpoint::DsEndpoint;
use super::metrics::{record_operation, result_name};
use super::rate_limit;
use super::responses::{self, Body};

/// Path of the DS-to-DS fan-out endpoint.
pub const FANOUT_PATH: &str = "/mimi/v1/fanout";

/// Answers one request to [`FANOUT_PATH`]: transport refusals as HTTP
/// statuses, everything that reaches the protocol layer as `200` with an
/// encoded `DSFanoutResponse` (undecodable bodies included).
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
    let body = match DsFanoutRequest::decode(&bytes) {
        Ok(request) => {
            let span = tracing::Span::current();
            span.record("operation", "fanout");
            span.record("client", request.sender.as_str());
            let started = Instant::now();
            let body = endpoint.handle_fanout(request).await;
            let error = match &body {
                DsFanoutResponseBody::Error(error) => Some(error.code),
                DsFanoutResponseBody::Ok => None,
            };
            span.record("result", result_name(error).as_str());
            record_operation("fanout", "fanout", error, started.elapsed());
            body
        }
        Err(error) => {
            tracing::debug!(%error, "undecodable fan-out request");
            let error = DsError::from(error);
            count_undecodable(error.code);
            DsFanoutResponseBody::Error(error)
        }
    };
    if let DsFanoutResponseBody::Error(error) = &body {
        tracing::info!(code = ?error.code, detail = %error.detail(), "fan-out refused");
    }
    encode(body)
}

/// `429` with a `RateLimited` `DSFanoutResponse` for a request that arrived
/// while its source address was over its rate; nothing of it was read.
pub(crate) fn rate_limited(wait: Duration) -> Response<Body> {
    let error = rate_limit::refusal("this address", wait);
    responses::too_many_requests(encode(DsFanoutResponseBody::Error(error)), wait)
}

/// `200` with the encoded `DSFanoutResponse`.
fn encode(body: DsFanoutResponseBody) -> Response<Body> {
    protocol_answer(DsFanoutResponse::new(body).encode(), || {
        DsFanoutResponse::new(DsFanoutResponseBody::Error(DsError::new(
            DsErrorCode::InternalError,
            "the response could not be encoded",
        )))
        .encode()
    })
}
