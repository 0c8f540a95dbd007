//! Housekeeping: a background task that, every interval, forgets what the
//! DS no longer needs — request nonces too old to matter, log and inbox
//! entries every reader has passed or that outlived the retention period,
//! finished memberships, expired key packages and registration tokens — and
//! lets the per-client rate limiter drop idle clients.

use std::time::Duration;

use super::DsService;
use super::metrics::record_purge;
use super::periodic::{self, PeriodicHandle};
use crate::storage::{PurgeReport, StorageError, Timestamp};

/// When housekeeping runs and what it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HousekeepingOptions {
    /// Time between passes.
    pub interval: Duration,
    /// Log and inbox entries older than this are dropped even if unread.
    pub log_retention: Duration,
}

impl Default for HousekeepingOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            log_retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Request nonces.
    pub nonces: u64,
    /// Everything [`crate::storage::Store::purge`] removed.
    pub purged: PurgeReport,
}

/// Runs the purges of one service.
#[derive(Debug, Clone)]
pub struct Housekeeping {
    service: DsService,
}

impl Housekeeping {
    /// Housekeeping of `service`, as its options configure it.
    pub fn new(service: DsService) -> Self {
        Self { service }
    }

    /// One pass at `now`.
    ///
    /// A nonce is kept for twice the freshness window: a request may carry a
    /// timestamp up to one window ahead of the server's clock, so its replay
    /// stays fresh until one window past that timestamp.
    pub async fn pass(&self, now: Timestamp) -> Result<HousekeepingReport, StorageError> {
        let options = self.service.options();
        let store = self.service.store();
        let nonce_horizon = options.freshness_window.saturating_mul(2);
        let nonces = store
            .purge_nonces(now.saturating_sub(nonce_horizon))
            .await?;
        let purged = store.purge(now, options.housekeeping.log_retention).await?;
        self.service.shrink_client_limit();
        let report = HousekeepingReport { nonces, purged };
        record_purge(&report);
        Ok(report)
    }

    /// Runs [`Housekeeping::pass`] every interval (the first one interval
    /// after the start) until the handle is stopped. A failed pass is logged
    /// and retried at the next interval.
    pub fn spawn(self) -> PeriodicHandle {
        let interval = self.service.options().housekeeping.interval;
        periodic::spawn("housekeeping", interval, interval, move || {
            let this = self.clone();
            async move {
                match this.pass(Timestamp::now()).await {
                    Ok(report) if report != HousekeepingReport::default() => {
                        tracing::debug!(?report, "housekeeping purged");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "housekeeping pass failed"),
                }
            }
        })
    }
}
