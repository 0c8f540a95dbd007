//! Names and recording of the fan-out sender's metrics, all labelled by
//! `destination` (a peer DS domain: a small, operator-configured set).

use std::time::Duration;

use crate::storage::{OutboxBacklog, Timestamp};

/// Gauge of fan-outs waiting for one destination.
pub const OUTBOX_DEPTH: &str = "mimi_ds_outbox_depth";
/// Gauge of the age of the oldest fan-out waiting for one destination.
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "mimi_ds_outbox_oldest_age_seconds";
/// Counter of entries a destination acknowledged.
pub const FANOUT_SENT_ENTRIES_TOTAL: &str = "mimi_ds_fanout_sent_entries_total";
/// Counter of batches sent, by `result` (`ok`, `refused`, `failed`).
pub const FANOUT_BATCHES_TOTAL: &str = "mimi_ds_fanout_batches_total";
/// Counter of failed batches, by `reason` (a transport reason or the
/// refusal's error code).
pub const FANOUT_FAILURES_TOTAL: &str = "mimi_ds_fanout_failures_total";
/// Counter of fan-outs given up on (moved to the dead letters), by `reason`.
pub const FANOUT_DROPPED_TOTAL: &str = "mimi_ds_fanout_dropped_total";
/// Histogram of the time from sending a batch to its answer.
pub const FANOUT_BATCH_SECONDS: &str = "mimi_ds_fanout_batch_seconds";

/// How one batch ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BatchResult {
    Ok,
    Refused,
    Failed,
}

impl BatchResult {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// Records one sent batch of `entries` that took `elapsed`.
pub(crate) fn record_batch(
    destination: &str,
    result: BatchResult,
    entries: usize,
    elapsed: Duration,
) {
    let destination = destination.to_owned();
    metrics::counter!(FANOUT_BATCHES_TOTAL, "destination" => destination.clone(), "result" => result.label())
        .increment(1);
    metrics::histogram!(FANOUT_BATCH_SECONDS, "destination" => destination.clone())
        .record(elapsed.as_secs_f64());
    if let BatchResult::Ok = result {
        metrics::counter!(FANOUT_SENT_ENTRIES_TOTAL, "destination" => destination)
            .increment(u64::try_from(entries).unwrap_or(u64::MAX));
    }
}

/// Records a failed attempt (transport failure, refusal, local error).
pub(crate) fn record_failure(destination: &str, reason: String) {
    metrics::counter!(FANOUT_FAILURES_TOTAL, "destination" => destination.to_owned(), "reason" => reason)
        .increment(1);
}

/// Records a fan-out moved to the dead letters.
pub(crate) fn record_dropped(destination: &str, reason: String) {
    metrics::counter!(FANOUT_DROPPED_TOTAL, "destination" => destination.to_owned(), "reason" => reason)
        .increment(1);
}

/// Sets the backlog gauges; destinations in `previously` but no longer in
/// `backlog` are set to zero. Returns the destinations reported now.
pub(crate) fn record_backlog(
    backlog: &[OutboxBacklog],
    previously: &[String],
    now: Timestamp,
) -> Vec<String> {
    for gone in previously
        .iter()
        .filter(|d| !backlog.iter().any(|b| &b.destination == *d))
    {
        metrics::gauge!(OUTBOX_DEPTH, "destination" => gone.clone()).set(0.0);
        metrics::gauge!(OUTBOX_OLDEST_AGE_SECONDS, "destination" => gone.clone()).set(0.0);
    }
    for b in backlog {
        // Gauges are f64; counts beyond 2^53 lose precision, not meaning.
        metrics::gauge!(OUTBOX_DEPTH, "destination" => b.destination.clone()).set(b.depth as f64);
        let age = now.unix_secs().saturating_sub(b.oldest.unix_secs());
        metrics::gauge!(OUTBOX_OLDEST_AGE_SECONDS, "destination" => b.destination.clone())
            .set(age as f64);
    }
    backlog.iter().map(|b| b.destination.clone()).collect()
}
