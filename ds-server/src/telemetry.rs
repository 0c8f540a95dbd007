//! Process-wide observability set-up: the `tracing` subscriber (text or
//! JSON lines) and the Prometheus recorder behind the `metrics` facade.

use std::time::Duration;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};
use crate::http::metrics::{DS_REQUEST_DURATION_SECONDS, HTTP_REQUEST_DURATION_SECONDS};

/// Histogram buckets of request latency, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// How often the recorder's histograms are compacted.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A global subscriber is already installed, or the filter is invalid.
    #[error("cannot install the log subscriber: {0}")]
    Logging(String),
    /// The metrics recorder could not be built or installed.
    #[error("cannot install the metrics recorder: {0}")]
    Metrics(#[from] BuildError),
}

/// Installs the global `tracing` subscriber. `RUST_LOG`, when set, replaces
/// the configured filter.
pub fn init_logging(log: &LogConfig) -> Result<(), TelemetryError> {
    let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives),
        _ => EnvFilter::try_new(&log.filter),
    }
    .map_err(|e| TelemetryError::Logging(e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|e| TelemetryError::Logging(e.to_string()))
}

/// Installs the global Prometheus recorder and returns the handle that
/// renders `/metrics`. Call once per process.
pub fn install_metrics_recorder() -> Result<PrometheusHandle, TelemetryError> {
    let mut builder = PrometheusBuilder::new();
    for histogram in [HTTP_REQUEST_DURATION_SECONDS, DS_REQUEST_DURATION_SECONDS] {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(histogram.to_owned()), &LATENCY_BUCKETS)?;
    }
    Ok(builder.install_recorder()?)
}

/// Runs the recorder's periodic upkeep until the runtime stops.
pub fn spawn_metrics_upkeep(handle: PrometheusHandle) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
        loop {
            interval.tick().await;
            handle.run_upkeep();
        }
    })
}
