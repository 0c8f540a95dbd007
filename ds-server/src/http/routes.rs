//! Routing of the public listener, with a tracing span and metrics per
//! request. A request whose source address is over its rate is answered
//! `429` here, before its body is read or anything decoded.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tracing::Instrument;

use super::ds::{self, DS_PATH};
use super::endpoint::DsEndpoint;
use super::fanout::{self, FANOUT_PATH};
use super::metrics::{record_error, record_rate_limited, record_request};
use super::push::{self, PUSH_PATH};
use super::queue::{self, QUEUE_PATH};
use super::responses::{self, Body};

/// Routes one request and records its outcome. `admitted` is the source
/// address's rate check: `Err(wait)` refuses the request with `429`.
pub(crate) async fn handle<E, B>(
    request: Request<B>,
    endpoint: &E,
    max_body: usize,
    admitted: Result<(), Duration>,
) -> Response<Body>
where
    E: DsEndpoint,
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
        operation = tracing::field::Empty,
        group = tracing::field::Empty,
        client = tracing::field::Empty,
        result = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    async move {
        let (route, response) = match (request.uri().path(), admitted) {
            (path, Err(wait)) => {
                tracing::debug!(wait_ms = wait.as_millis(), "source address over its rate");
                record_rate_limited("address");
                rate_limited(path, wait)
            }
            (DS_PATH, Ok(())) => ("ds", ds::handle(request, endpoint, max_body).await),
            (QUEUE_PATH, Ok(())) => ("queue", queue::handle(request, endpoint, max_body).await),
            (FANOUT_PATH, Ok(())) => ("fanout", fanout::handle(request, endpoint, max_body).await),
            (PUSH_PATH, Ok(())) => ("push", push::handle::<E, B>(request, max_body).await),
            (_, Ok(())) => (
                "unknown",
                responses::plain(StatusCode::NOT_FOUND, "no such endpoint\n"),
            ),
        };
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        tracing::Span::current().record("status", status);
        tracing::debug!(
            status,
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "request answered"
        );
        record_request(route, status, elapsed);
        response
    }
    .instrument(span)
    .await
}

/// The `429` answer on `path`: a protocol body on the protocol endpoints,
/// plain text elsewhere (the push upgrade, unknown paths).
fn rate_limited(path: &str, wait: Duration) -> (&'static str, Response<Body>) {
    match path {
        DS_PATH => {
            record_error(ds_core::wire::DsErrorCode::RateLimited);
            ("ds", ds::rate_limited(wait))
        }
        QUEUE_PATH => {
            record_error(ds_core::wire::DsErrorCode::RateLimited);
            ("queue", queue::rate_limited(wait))
        }
        FANOUT_PATH => {
            record_error(ds_core::wire::DsErrorCode::RateLimited);
            ("fanout", fanout::rate_limited(wait))
        }
        PUSH_PATH => ("push", plain_rate_limited(wait)),
        _ => ("unknown", plain_rate_limited(wait)),
    }
}

fn plain_rate_limited(wait: Duration) -> Response<Body> {
    responses::too_many_requests(
        responses::plain(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this address; retry after Retry-After seconds\n",
        ),
        wait,
    )
}
