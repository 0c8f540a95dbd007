//! The public HTTPS listener: TLS 1.3 (rustls), then HTTP/2 or HTTP/1.1 on
//! the same port (hyper-util's auto builder).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::Watcher;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::accept::accept_loop;
use super::endpoint::DsEndpoint;
use super::limits::Limits;
use super::routes;

/// Serves `POST /mimi/v1/ds` over TLS on `listener` until `shutdown`
/// completes; then stops accepting, lets in-flight requests finish and
/// returns when every connection is closed.
pub async fn serve<E: DsEndpoint>(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    endpoint: Arc<E>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let builder = Arc::new(http_builder(&limits));
    accept_loop(
        listener,
        limits.max_connections,
        shutdown,
        move |stream, peer, watcher| {
            serve_connection(
                stream,
                peer,
                acceptor.clone(),
                Arc::clone(&builder),
                Arc::clone(&endpoint),
                limits,
                watcher,
            )
        },
    )
    .await;
}

fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    builder
}

async fn serve_connection<E: DsEndpoint>(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    endpoint: Arc<E>,
    limits: Limits,
    watcher: Watcher,
) {
    let handshake = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(stream));
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
    let max_body = limits.max_body_bytes;
    let service = service_fn(move |request| {
        let endpoint = Arc::clone(&endpoint);
        async move { Ok::<_, Infallible>(routes::handle(request, endpoint.as_ref(), max_body).await) }
    });
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
