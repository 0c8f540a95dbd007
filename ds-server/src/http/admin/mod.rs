//! The admin listener: plain HTTP/1.1, meant for loopback or a private
//! network. `GET /healthz` (the process runs), `GET /readyz` (503 once
//! shutdown began), `GET /metrics` (Prometheus text format), and the
//! operator commands under `/admin/v1/` (see `operations.rs`).

mod operations;

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

pub use operations::AdminOperations;

use super::accept::accept_loop;
use super::readiness::Readiness;
use super::responses::{self, Body};

/// Concurrent admin connections at most (probes and scrapers only).
const ADMIN_MAX_CONNECTIONS: usize = 64;

/// Time an admin client has to send its request head.
const ADMIN_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Media type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the admin endpoints report.
#[derive(Debug, Clone)]
pub struct AdminState {
    /// Answer of `/readyz`.
    pub readiness: Readiness,
    /// Source of `/metrics`; `None` answers 404 there.
    pub metrics: Option<PrometheusHandle>,
    /// The operator commands; `None` answers 404 under `/admin/v1/`.
    pub operations: Option<AdminOperations>,
}

/// Serves the admin endpoints on `listener` until `shutdown` completes.
pub async fn serve_admin(
    listener: TcpListener,
    state: AdminState,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(ADMIN_HEADER_TIMEOUT);
    accept_loop(
        listener,
        ADMIN_MAX_CONNECTIONS,
        shutdown,
        move |stream, peer, watcher| {
            let state = state.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let state = state.clone();
                // Only the method and path matter: no admin endpoint reads a body.
                let method = request.method().clone();
                let path = request.uri().path().to_owned();
                async move { Ok::<_, Infallible>(route(&method, &path, &state).await) }
            });
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            async move {
                if let Err(error) = watcher.watch(connection).await {
                    tracing::debug!(%peer, %error, "admin connection ended with an error");
                }
            }
        },
    )
    .await;
}

async fn route(method: &Method, path: &str, state: &AdminState) -> Response<Body> {
    if let Some(command) = path.strip_prefix(operations::PREFIX) {
        return match &state.operations {
            Some(operations) => operations.route(method, command).await,
            None => responses::plain(StatusCode::NOT_FOUND, "operator commands are not enabled\n"),
        };
    }
    if !matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return responses::plain(StatusCode::NOT_FOUND, "no such endpoint\n");
    }
    if method != Method::GET && method != Method::HEAD {
        return responses::method_not_allowed("GET, HEAD");
    }
    match path {
        "/healthz" => responses::plain(StatusCode::OK, "ok\n"),
        "/readyz" if state.readiness.is_ready() => responses::plain(StatusCode::OK, "ready\n"),
        "/readyz" => responses::plain(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
        _ => match &state.metrics {
            Some(handle) => responses::with_type(
                StatusCode::OK,
                PROMETHEUS_TEXT,
                Bytes::from(handle.render()),
            ),
            None => responses::plain(StatusCode::NOT_FOUND, "metrics are not enabled\n"),
        },
    }
}
