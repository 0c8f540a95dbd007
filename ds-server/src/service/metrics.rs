//! Names and recording of the service's metrics: log entries stored, what
//! housekeeping purged, and gauges of what the DS holds, sampled from
//! storage and the group cache.

use std::time::Duration;

use super::DsService;
use super::housekeeping::HousekeepingReport;
use super::periodic::{self, PeriodicHandle};

/// Counter of group log entries stored (messages and commits).
pub const LOG_ENTRIES_STORED_TOTAL: &str = "mimi_ds_log_entries_stored_total";

/// Counter of rows purged by housekeeping, labelled `what`.
pub const PURGED_TOTAL: &str = "mimi_ds_purged_total";

/// Gauge of live groups owned by this DS.
pub const GROUPS: &str = "mimi_ds_groups";

/// Gauge of registered clients.
pub const REGISTERED_CLIENTS: &str = "mimi_ds_registered_clients";

/// Gauge of groups whose state this process keeps in memory.
pub const CACHED_GROUPS: &str = "mimi_ds_cached_groups";

/// Gauge of fan-outs waiting for delivery, all destinations together (the
/// sender reports `mimi_ds_outbox_depth{destination}` per destination).
pub const OUTBOX_PENDING: &str = "mimi_ds_outbox_pending";

/// Gauge of other domains' groups this DS keeps a replica of.
pub const REPLICA_GROUPS: &str = "mimi_ds_replica_groups";

/// Records `entries` log entries stored by one committed append or commit.
/// Call it after the transaction committed, never before.
pub fn record_log_entries(entries: usize) {
    metrics::counter!(LOG_ENTRIES_STORED_TOTAL)
        .increment(u64::try_from(entries).unwrap_or(u64::MAX));
}

/// Records what one housekeeping pass removed.
pub(crate) fn record_purge(report: &HousekeepingReport) {
    let purged = &report.purged;
    for (what, count) in [
        ("nonces", report.nonces),
        ("log_entries", purged.log_entries),
        ("inbox_entries", purged.inbox_entries),
        ("memberships", purged.memberships),
        ("key_packages", purged.key_packages),
        ("tokens", purged.tokens),
    ] {
        metrics::counter!(PURGED_TOTAL, "what" => what).increment(count);
    }
}

/// Sets the gauges from the service's current status.
pub async fn sample_gauges(service: &DsService) -> Result<(), super::OperatorError> {
    let status = service.status().await?;
    // Gauges are f64; counts beyond 2^53 lose precision, not meaning.
    let value = |n: u64| n as f64;
    metrics::gauge!(GROUPS).set(value(status.groups));
    metrics::gauge!(REGISTERED_CLIENTS).set(value(status.registered_clients));
    metrics::gauge!(CACHED_GROUPS).set(status.cached_groups as f64);
    metrics::gauge!(OUTBOX_PENDING).set(value(status.outbox_depth));
    metrics::gauge!(REPLICA_GROUPS).set(value(status.replica_groups));
    Ok(())
}

/// Samples the gauges every `interval`, the first time right away, until
/// the handle is stopped.
pub fn spawn_gauge_sampler(service: DsService, interval: Duration) -> PeriodicHandle {
    periodic::spawn("gauge sampler", Duration::ZERO, interval, move || {
        let service = service.clone();
        async move {
            if let Err(error) = sample_gauges(&service).await {
                tracing::warn!(%error, "sampling the gauges failed");
            }
        }
    })
}
