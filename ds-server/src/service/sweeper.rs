//! The inactivity sweeper: a background task that, every interval, finds
//! clients not seen for the configured inactivity timeout and has the DS
//! propose their removal from every group they are still in.
//!
//! It keeps their registration: an inactive device that comes back can sync
//! what it is still entitled to and be added again, and deleting is the
//! operator's explicit decision (`DELETE /admin/v1/clients/…`). A client
//! already proposed for removal costs a sweep only an idempotent look at its
//! groups; once a commit removed it, it is in no group and costs nothing.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::DsService;
use super::removal::{OperatorError, Removal};
use crate::storage::Timestamp;

/// Removes inactive clients from their groups.
#[derive(Debug, Clone)]
pub struct Sweeper {
    service: DsService,
    timeout: Duration,
    interval: Duration,
}

impl Sweeper {
    /// A sweeper that every `interval` removes clients not seen for `timeout`.
    pub fn new(service: DsService, timeout: Duration, interval: Duration) -> Self {
        Self {
            service,
            timeout,
            interval,
        }
    }

    /// The sweeper the service's options ask for (`inactivity_timeout`), if
    /// any, looking every `interval`.
    pub fn from_options(service: &DsService, interval: Duration) -> Option<Self> {
        let timeout = service.options().inactivity_timeout?;
        Some(Self::new(service.clone(), timeout, interval))
    }

    /// One pass: the removals proposed for clients inactive now, by client.
    /// A client in no group is skipped.
    pub async fn sweep(&self) -> Result<Vec<(String, Removal)>, OperatorError> {
        let since = Timestamp::now().saturating_sub(self.timeout);
        let store = self.service.store();
        let mut removed = Vec::new();
        for id in store.clients_inactive_since(since).await? {
            if store.groups_of_client(&id).await?.is_empty() {
                continue;
            }
            let Ok(client) = ds_core::wire::ClientId::new(&id) else {
                tracing::warn!(client = %id, "stored client id is malformed; skipped");
                continue;
            };
            let removal = self.service.remove_client(&client).await?;
            metrics::counter!("mimi_ds_inactivity_removals_total")
                .increment(removal.proposed.len() as u64);
            removed.push((id, removal));
        }
        Ok(removed)
    }

    /// Runs [`Sweeper::sweep`] every interval (the first right away) until
    /// the returned handle is stopped. A failed pass is logged and retried at
    /// the next interval.
    pub fn spawn(self) -> SweeperHandle {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    // A pass in progress is finished before the stop is seen.
                    _ = &mut stopped => break,
                    _ = ticks.tick() => match self.sweep().await {
                        Ok(removed) if !removed.is_empty() => {
                            tracing::info!(clients = removed.len(), "inactive clients proposed for removal");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "inactivity sweep failed"),
                    },
                }
            }
        });
        SweeperHandle { stop, task }
    }
}

/// The running sweeper task.
#[derive(Debug)]
pub struct SweeperHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SweeperHandle {
    /// Stops the task after any pass in progress and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "inactivity sweeper task failed");
        }
    }
}
