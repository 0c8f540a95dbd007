//! Routing of the public listener, with a tracing span and metrics per request.

use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tracing::Instrument;

use super::ds::{self, DS_PATH};
use super::endpoint::DsEndpoint;
use super::metrics::record_request;
use super::push::{self, PUSH_PATH};
use super::queue::{self, QUEUE_PATH};
use super::responses::{self, Body};

/// Routes one request and records its outcome.
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
    let started = Instant::now();
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
        operation = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    async move {
        let (route, response) = match request.uri().path() {
            DS_PATH => ("ds", ds::handle(request, endpoint, max_body).await),
            QUEUE_PATH => ("queue", queue::handle(request, endpoint, max_body).await),
            PUSH_PATH => ("push", push::handle::<E, B>(request, max_body).await),
            _ => (
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
