//! The fan-out sender: one task that finds the destinations with pending
//! outbox rows (at start, when woken by a commit, and every poll interval,
//! which catches rows written by other processes) and one delivery task per
//! destination ([`super::destination`]). Everything it knows is read from
//! storage, so it resumes after a restart where the last one stopped.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ds_core::wire::Domain;
use ds_federation::{DsKeyring, PeerClient};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::destination::Delivery;
use super::metrics::record_backlog;
use super::wake::FanoutWake;
use crate::storage::{Store, Timestamp};

/// Shortest time between two listings of the destinations on wakes.
const DISCOVERY_GAP: Duration = Duration::from_millis(100);

/// How the sender runs. [`SenderOptions::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct SenderOptions {
    /// This DS's domain: the `sender` of every request.
    pub local_domain: Domain,
    /// Outbox rows per request at most (`[federation] fanout_batch_entries`).
    pub batch_entries: usize,
    /// Encoded entries per request at most, in bytes (a single larger entry
    /// still goes alone). Keep it below the peers' request body limit.
    pub batch_bytes: usize,
    /// First retry delay after a failure; doubles per failure.
    pub retry_base: Duration,
    /// Longest retry delay (`[federation] retry_max_secs`).
    pub retry_max: Duration,
    /// How often to look for rows other processes wrote.
    pub poll_interval: Duration,
    /// How long a destination's delivery lease lasts without renewal.
    pub lease_ttl: Duration,
    /// How often the holder renews its lease, well within `lease_ttl`.
    pub lease_renew: Duration,
    /// How often the backlog gauges are sampled.
    pub backlog_interval: Duration,
    /// This process's name in the lease table; unique per process.
    pub holder: String,
    /// The wake the commit paths signal; [`FanoutSenderHandle::wake`] returns it.
    pub wake: FanoutWake,
}

impl SenderOptions {
    /// Defaults: 500 entries or 8 MiB per request, retries from 200 ms up
    /// to 60 s, a poll every second, 10 s leases renewed every 3 s, the
    /// backlog sampled every 15 s, a fresh holder name and wake.
    pub fn new(local_domain: Domain) -> Self {
        Self {
            local_domain,
            batch_entries: 500,
            batch_bytes: 8 << 20,
            retry_base: Duration::from_millis(200),
            retry_max: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(10),
            lease_renew: Duration::from_secs(3),
            backlog_interval: Duration::from_secs(15),
            holder: unique_holder(),
            wake: FanoutWake::new(),
        }
    }
}

/// A name for this process that no other process picks: process id, start
/// time and random bits.
fn unique_holder() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let random = RandomState::new().hash_one(nanos);
    format!("{}-{nanos:x}-{random:016x}", std::process::id())
}

/// What every delivery task shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub store: Store,
    pub keyring: DsKeyring,
    pub client: PeerClient,
    pub options: SenderOptions,
}

/// Delivers the outbox to other DS domains.
#[derive(Debug)]
pub struct FanoutSender;

impl FanoutSender {
    /// Starts the sender on the current Tokio runtime.
    pub fn spawn(
        store: Store,
        keyring: DsKeyring,
        client: PeerClient,
        options: SenderOptions,
    ) -> FanoutSenderHandle {
        let wake = options.wake.clone();
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            store,
            keyring,
            client,
            options,
        });
        let task = tokio::spawn(supervise(shared, stopped));
        FanoutSenderHandle { wake, stop, task }
    }
}

/// A running sender.
#[derive(Debug)]
pub struct FanoutSenderHandle {
    wake: FanoutWake,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FanoutSenderHandle {
    /// The wake to signal after a commit that wrote outbox rows.
    pub fn wake(&self) -> FanoutWake {
        self.wake.clone()
    }

    /// Stops the sender: requests in flight are finished (and their rows
    /// deleted if acknowledged), leases are released, then it returns.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the fan-out sender failed");
        }
    }
}

/// Resolves once the sender is told to stop (or its handle is gone).
pub(super) async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// A delivery task and how to wake it.
struct Running {
    notify: Arc<Notify>,
    task: JoinHandle<()>,
}

/// Finds destinations and wakes their delivery tasks until stopped.
async fn supervise(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let options = &shared.options;
    let mut running: BTreeMap<String, Running> = BTreeMap::new();
    let mut poll = tokio::time::interval(options.poll_interval);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut sample = tokio::time::interval(options.backlog_interval);
    sample.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut reported: Vec<String> = Vec::new();
    // Destinations that are not domains: logged once, never delivered.
    let mut malformed: BTreeSet<String> = BTreeSet::new();
    let mut last_discovery: Option<Instant> = None;
    loop {
        tokio::select! {
            biased;
            () = until_stopped(&mut stopped) => break,
            () = options.wake.woken() => {
                // Under load commits wake constantly; listing destinations
                // scans the outbox, so a wake lists them at most every
                // DISCOVERY_GAP and otherwise only wakes the tasks.
                if last_discovery.is_some_and(|at| at.elapsed() < DISCOVERY_GAP) {
                    wake_all(&running);
                    continue;
                }
            }
            _ = poll.tick() => {}
            _ = sample.tick() => {
                match shared.store.outbox_backlog().await {
                    Ok(backlog) => reported = record_backlog(&backlog, &reported, Timestamp::now()),
                    Err(error) => tracing::warn!(%error, "sampling the outbox backlog failed"),
                }
                continue;
            }
        }
        last_discovery = Some(Instant::now());
        match shared.store.outbox_destinations().await {
            Ok(destinations) => {
                for destination in destinations {
                    if running.contains_key(&destination) || malformed.contains(&destination) {
                        continue;
                    }
                    match start(&shared, &destination, &stopped) {
                        Some(task) => {
                            running.insert(destination, task);
                        }
                        None => {
                            malformed.insert(destination);
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "listing the outbox destinations failed"),
        }
        wake_all(&running);
    }
    for (destination, task) in running {
        if let Err(error) = task.task.await {
            tracing::error!(%destination, %error, "a fan-out delivery task failed");
        }
    }
}

/// Tells every delivery task to look at its outbox.
fn wake_all(running: &BTreeMap<String, Running>) {
    for task in running.values() {
        task.notify.notify_one();
    }
}

/// Starts delivering to `destination`, unless it is not a domain (a row no
/// code path writes; left in the outbox and logged).
fn start(
    shared: &Arc<Shared>,
    destination: &str,
    stopped: &watch::Receiver<bool>,
) -> Option<Running> {
    let domain = match Domain::new(destination) {
        Ok(domain) => domain,
        Err(error) => {
            tracing::error!(%destination, %error, "outbox rows for a malformed destination; not delivered");
            return None;
        }
    };
    tracing::info!(%destination, "fan-out delivery started");
    let notify = Arc::new(Notify::new());
    let delivery = Delivery::new(
        Arc::clone(shared),
        domain,
        Arc::clone(&notify),
        stopped.clone(),
    );
    Some(Running {
        notify,
        task: tokio::spawn(delivery.run()),
    })
}
