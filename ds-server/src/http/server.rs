//! The public HTTPS listener: TLS 1.3 (rustls), then HTTP/2 or HTTP/1.1 on
//! the same port (hyper-util's auto builder), with HTTP/1.1 upgrades and
//! HTTP/2 extended CONNECT enabled for the live-push WebSocket.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::accept::accept_loop;
use super::endpoint::DsEndpoint;
use super::limits::Limits;
use super::push::{PUSH_PATH, PushContext, PushStop};
use super::rate_limit::AddressLimit;
use super::routes;

/// Upper bound on waiting for push sessions after the connections drained;
/// each session bounds its own closing handshake, so this only guards
/// against a bug keeping one alive.
const PUSH_DRAIN_LIMIT: Duration = Duration::from_secs(15);

/// How often the per-address limiter forgets addresses back at full burst.
const LIMITER_SHRINK_INTERVAL: Duration = Duration::from_secs(60);

/// Serves the public endpoints over TLS on `listener` until `shutdown`
/// completes; then stops accepting, tells push sessions to close, lets
/// in-flight requests finish and returns when every connection is closed.
pub async fn serve<E: DsEndpoint>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    endpoint: Arc<E>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let shared = Arc::new(Shared {
        acceptor: TlsAcceptor::from(tls),
        builder: http_builder(&limits),
        address_limit: AddressLimit::new(limits.per_address),
        limits,
    });
    let shrinker = tokio::spawn(shrink_periodically(Arc::clone(&shared)));
    let (stop_push, push_stop) = PushStop::channel();
    // Push sessions are told at once: an HTTP/2 connection carrying one
    // cannot finish draining before its WebSocket stream ends.
    let shutdown = async {
        shutdown.await;
        stop_push.send_replace(true);
    };
    accept_loop(
        listener,
        limits.max_connections,
        shutdown,
        move |stream, peer, watcher| {
            serve_connection(
                stream,
                peer,
                Arc::clone(&shared),
                PushContext {
                    endpoint: Arc::clone(&endpoint),
                    stop: push_stop.clone(),
                },
                watcher,
            )
        },
    )
    .await;
    shrinker.abort();
    // HTTP/1.1 sessions left their connections when they upgraded; each
    // holds a receiver until it closed.
    if tokio::time::timeout(PUSH_DRAIN_LIMIT, stop_push.closed())
        .await
        .is_err()
    {
        tracing::warn!("push sessions did not close in time");
    }
}

/// What every connection of the listener shares.
struct Shared {
    acceptor: TlsAcceptor,
    builder: auto::Builder<TokioExecutor>,
    /// Requests per source address, across all its connections.
    address_limit: AddressLimit,
    limits: Limits,
}

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol();
    builder
}

async fn serve_connection<E: DsEndpoint>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    push: PushContext<E>,
    watcher: Watcher,
) {
    let handshake = tokio::time::timeout(
        shared.limits.tls_handshake_timeout,
        shared.acceptor.accept(stream),
    );
    let tls = match handshake.await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "TLS handshake failed");
            return;
        }
        Err(_elapsed) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let max_body = shared.limits.max_body_bytes;
    let for_requests = Arc::clone(&shared);
    let service = service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
        let push = push.clone();
        // Checked per request (an HTTP/2 connection carries many), first.
        let admitted = for_requests.address_limit.check(&peer.ip());
        async move {
            if request.uri().path() == PUSH_PATH {
                request.extensions_mut().insert(push.clone());
            }
            let endpoint = push.endpoint.as_ref();
            Ok::<_, Infallible>(routes::handle(request, endpoint, max_body, admitted).await)
        }
    });
    let connection = shared
        .builder
        .serve_connection_with_upgrades(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// Shrinks the address limiter now and then for as long as the listener
/// runs (the task is aborted when it stops).
async fn shrink_periodically(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(LIMITER_SHRINK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.address_limit.shrink();
    }
}
