//! `POST /mimi/v1/queue`: a `QSRequest` in, a `QSResponse` out (spec §13).
//! The transport checks are those of `POST /mimi/v1/ds`; the queue service
//! itself authenticates every request.

use std::time::{Duration, Instant};

use bytes::Bytes;
use ds_core::wire::{DsError, DsErrorCode, QsRequest, QsResponse, QsResponseBody};
use http::{Request, Response};

use super::body::{count_undecodable, protocol_answer, protocol_body};
use super::endpoint::{DsEndpoint, QueueAnswer};
use super::metrics::result_name;
use super::metrics::{record_operation, record_sync_page};
use super::rate_limit;
use super::responses::{self, Body};

/// Path of the queue service endpoint.
pub const QUEUE_PATH: &str = "/mimi/v1/queue";

/// Answers one request to [`QUEUE_PATH`]: transport refusals as HTTP
/// statuses, everything that reaches the protocol layer as `200` with an
/// encoded `QSResponse` (undecodable bodies included) — except a refusal for
/// the client's rate, which is `429` with `Retry-After` and that body.
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
    let answer = match QsRequest::decode(&bytes) {
        Ok(request) => {
            let operation = request.body.name();
            let span = tracing::Span::current();
            span.record("operation", operation);
            span.record("client", request.auth.client_id.as_str());
            let started = Instant::now();
            let answer = endpoint.handle_queue(request).await;
            let error = match &answer.body {
                QsResponseBody::Error(error) => Some(error.code),
                QsResponseBody::Page(page) => {
                    record_sync_page(page);
                    None
                }
                _ => None,
            };
            span.record("result", result_name(error).as_str());
            record_operation("queue", operation, error, started.elapsed());
            answer
        }
        Err(error) => {
            tracing::debug!(%error, "undecodable queue request");
            let error = DsError::from(error);
            count_undecodable(error.code);
            QueueAnswer::from(QsResponseBody::Error(error))
        }
    };
    if let QsResponseBody::Error(error) = &answer.body {
        tracing::debug!(code = ?error.code, "queue request refused");
    }
    let response = encode(answer.body);
    match answer.retry_after {
        Some(wait) => responses::too_many_requests(response, wait),
        None => response,
    }
}

/// `429` with a `RateLimited` `QSResponse` for a request that arrived while
/// its source address was over its rate; nothing of it was read.
pub(crate) fn rate_limited(wait: Duration) -> Response<Body> {
    let error = rate_limit::refusal("this address", wait);
    responses::too_many_requests(encode(QsResponseBody::Error(error)), wait)
}

/// `200` with the encoded `QSResponse`.
fn encode(body: QsResponseBody) -> Response<Body> {
    protocol_answer(QsResponse::new(body).encode(), || {
        QsResponse::new(QsResponseBody::Error(DsError::new(
            DsErrorCode::InternalError,
            "the response could not be encoded",
        )))
        .encode()
    })
}
