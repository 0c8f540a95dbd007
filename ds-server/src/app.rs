//! Running the two listeners together with the background tasks
//! (inactivity sweeper, housekeeping, gauge sampling, fan-out delivery): readiness, then
//! graceful shutdown in order — `/readyz` turns 503, the public listener
//! stops accepting and drains its in-flight requests, the background tasks
//! finish their pass, and only then does the admin listener stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::federation::{FanoutSender, FanoutSenderHandle, SenderOptions};
use crate::http::admin::AdminOperations;
use crate::http::{self, AdminState, DsEndpoint, Limits, Readiness};
use crate::service::metrics::spawn_gauge_sampler;
use crate::service::{DsService, Housekeeping, PeriodicHandle, Sweeper};

/// Longest time between two samples of the storage and cache gauges.
const GAUGE_INTERVAL: Duration = Duration::from_secs(15);

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
    /// Operator commands on the admin listener and the background tasks
    /// (inactivity sweeper, housekeeping, gauges); `None` serves health,
    /// readiness and metrics only.
    pub operator: Option<Operator>,
}

/// The operator's side of a running DS.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The service the commands act on.
    pub service: DsService,
    /// Lifetime of the registration tokens `POST /admin/v1/tokens` issues.
    pub token_ttl: Duration,
    /// How often the inactivity sweeper looks; it runs only when the
    /// service's options set an `inactivity_timeout`.
    pub sweep_interval: Duration,
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
            operations: self.operator.as_ref().map(|o| AdminOperations {
                service: o.service.clone(),
                token_ttl: o.token_ttl,
            }),
        };
        let sweeper = self
            .operator
            .as_ref()
            .and_then(|o| Sweeper::from_options(&o.service, o.sweep_interval))
            .map(Sweeper::spawn);
        let background: Vec<PeriodicHandle> = self
            .operator
            .as_ref()
            .map(|o| background_tasks(&o.service))
            .unwrap_or_default();
        let fanout = self
            .operator
            .as_ref()
            .and_then(|o| fanout_sender(&o.service));
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
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        for task in background {
            task.stop().await;
        }
        if let Some(sender) = fanout {
            sender.stop().await;
        }
        let _ = stop_admin.send(());
        if let Err(error) = admin_task.await {
            tracing::error!(%error, "admin listener task failed");
        }
    }
}

/// The outbox sender of a federating service: delivers fan-outs to other
/// domains until the shutdown, woken by the service's commits.
fn fanout_sender(service: &DsService) -> Option<FanoutSenderHandle> {
    let peering = service.peering()?;
    Some(FanoutSender::spawn(
        service.store().clone(),
        peering.keyring.clone(),
        peering.client.clone(),
        SenderOptions {
            wake: service.fanout_wake().clone(),
            ..peering.sender.clone()
        },
    ))
}

/// Housekeeping at its configured interval, and the gauges sampled at that
/// interval too but at least every [`GAUGE_INTERVAL`].
fn background_tasks(service: &DsService) -> Vec<PeriodicHandle> {
    let interval = service.options().housekeeping.interval;
    vec![
        Housekeeping::new(service.clone()).spawn(),
        spawn_gauge_sampler(service.clone(), interval.min(GAUGE_INTERVAL)),
    ]
}
