//! Running the two listeners together: readiness, then graceful shutdown in
//! order — `/readyz` turns 503, the public listener stops accepting and
//! drains its in-flight requests, and only then does the admin listener stop.

use std::future::Future;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::http::{self, AdminState, DsEndpoint, Limits, Readiness};

/// Everything the running server needs besides its listening sockets.
#[derive(Debug)]
pub struct App<E> {
    /// TLS configuration of the public listener.
    pub tls: Arc<rustls::ServerConfig>,
    /// Handler of `DSRequest`s.
    pub endpoint: Arc<E>,
    /// Transport limits.
    pub limits: Limits,
    /// Source of `/metrics` (the installed recorder's handle).
    pub metrics: Option<PrometheusHandle>,
    /// Readiness reported by `/readyz`; set when serving starts, cleared
    /// when `shutdown` completes.
    pub readiness: Readiness,
}

impl<E: DsEndpoint> App<E> {
    /// Serves the public listener on `public` and the admin endpoints on
    /// `admin` until `shutdown` completes, then shuts down gracefully and
    /// returns once every connection is closed.
    pub async fn run(
        self,
        public: TcpListener,
        admin: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) {
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin_state = AdminState {
            readiness: self.readiness.clone(),
            metrics: self.metrics,
        };
        let admin_task = tokio::spawn(http::serve_admin(admin, admin_state, async move {
            // Either an explicit stop or the sender dropped: both mean stop.
            let _ = admin_stopped.await;
        }));
        let readiness = self.readiness;
        readiness.set_ready();
        let public_shutdown = async {
            shutdown.await;
            readiness.set_not_ready();
            tracing::info!("shutdown requested: not ready, draining connections");
        };
        http::serve(
            public,
            self.tls,
            self.endpoint,
            self.limits,
            public_shutdown,
        )
        .await;
        tracing::info!("public listener drained");
        let _ = stop_admin.send(());
        if let Err(error) = admin_task.await {
            tracing::error!(%error, "admin listener task failed");
        }
    }
}
