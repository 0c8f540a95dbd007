//! Delivering one destination's outbox, in outbox order, while holding its
//! lease: read a batch, sign it, send it, delete what was acknowledged.
//! Failures keep the rows and back off; a refusal of one entry is isolated
//! and that entry dead-lettered (see [`super::refusal`]).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ds_core::wire::{
    Domain, DsFanoutRequest, DsFanoutResponseBody, List, ProtocolVersion, ShortBytes,
};
use ds_federation::sign_fanout;
use tokio::sync::{Notify, watch};

use super::backoff::Backoff;
use super::batch::{self, Batch, Limits};
use super::metrics::{BatchResult, record_batch, record_dropped, record_failure};
use super::refusal::{Verdict, label, verdict};
use super::sender::{Shared, until_stopped};
use crate::storage::{OutboxEntry, StorageError, Timestamp};

/// What one step came to.
enum Step {
    /// Nothing pending.
    Idle,
    /// Another process holds the lease.
    NotHolder,
    /// Progress made (or nothing to wait for): go on at once.
    Again,
    /// Back off before the next attempt.
    Failed,
}

/// The delivery task of one destination.
pub(super) struct Delivery {
    shared: Arc<Shared>,
    destination: Domain,
    notify: Arc<Notify>,
    stopped: watch::Receiver<bool>,
    backoff: Backoff,
    /// After a refusal of one entry of a batch: send one row at a time up
    /// to this outbox id, to find and drop the refused one.
    isolate_through: Option<u64>,
    /// When the lease was last taken or renewed, if held.
    lease_renewed: Option<Instant>,
}

impl Delivery {
    pub(super) fn new(
        shared: Arc<Shared>,
        destination: Domain,
        notify: Arc<Notify>,
        stopped: watch::Receiver<bool>,
    ) -> Self {
        let backoff = Backoff::new(shared.options.retry_base, shared.options.retry_max);
        Self {
            shared,
            destination,
            notify,
            stopped,
            backoff,
            isolate_through: None,
            lease_renewed: None,
        }
    }

    fn name(&self) -> &str {
        self.destination.as_str()
    }

    /// Delivers until stopped; then gives up the lease.
    pub(super) async fn run(mut self) {
        loop {
            if *self.stopped.borrow() {
                break;
            }
            let wait = match self.step().await {
                Step::Again => continue,
                // An idle holder keeps its lease until it lapses: it also
                // delivers the rows other processes write (the poll finds
                // them), and giving the lease up after every batch would
                // cost two writes per quiet-time message.
                Step::Idle | Step::NotHolder => None,
                Step::Failed => Some(self.backoff.next_delay()),
            };
            if !self.pause(wait).await {
                break;
            }
        }
        self.release().await;
    }

    /// Waits for a wake (`None`) or a fixed delay (a backoff, which a wake
    /// does not cut short). False if stopped meanwhile.
    async fn pause(&mut self, delay: Option<Duration>) -> bool {
        let stopped = &mut self.stopped;
        match delay {
            None => tokio::select! {
                () = until_stopped(stopped) => false,
                () = self.notify.notified() => true,
            },
            Some(delay) => tokio::select! {
                () = until_stopped(stopped) => false,
                () = tokio::time::sleep(delay) => true,
            },
        }
    }

    /// One batch: read, lease, build, send, settle.
    async fn step(&mut self) -> Step {
        let mut rows = match self.pending().await {
            Ok(rows) => rows,
            Err(error) => return self.local_failure("storage", &error),
        };
        let Some(first) = rows.first() else {
            self.isolate_through = None;
            return Step::Idle;
        };
        if self
            .isolate_through
            .is_some_and(|through| first.id > through)
        {
            tracing::info!(destination = %self.name(), "refused batch sorted out; batching again");
            self.isolate_through = None;
            return Step::Again;
        }
        match self.hold_lease().await {
            Ok(Lease::Held) => {}
            Ok(Lease::NewlyTaken) => {
                // The previous holder may have delivered some meanwhile.
                rows = match self.pending().await {
                    Ok(rows) => rows,
                    Err(error) => return self.local_failure("storage", &error),
                };
            }
            Ok(Lease::Other) => return Step::NotHolder,
            Err(error) => return self.local_failure("storage", &error),
        }
        let options = &self.shared.options;
        let built = batch::build(
            &rows,
            Limits::new(options.batch_entries, options.batch_bytes),
        );
        for (id, why) in built.unsendable {
            if let Err(error) = self.drop_row(id, why).await {
                return self.local_failure("storage", &error);
            }
        }
        if built.batch.ids.is_empty() {
            return Step::Again;
        }
        self.send(built.batch).await
    }

    /// The next rows in order: one while isolating a refusal.
    async fn pending(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        let limit = match self.isolate_through {
            Some(_) => 1,
            None => self.shared.options.batch_entries,
        };
        self.shared.store.outbox_pending(self.name(), limit).await
    }

    /// Signs and sends `batch`, then deletes, keeps or drops its rows.
    async fn send(&mut self, batch: Batch) -> Step {
        let count = batch.ids.len();
        let request = match self.request(batch.entries) {
            Ok(request) => request,
            Err(error) => return self.local_failure("encode", &error),
        };
        let started = Instant::now();
        let shared = Arc::clone(&self.shared);
        let answer = self.renewing_lease(shared.client.fanout(&request)).await;
        let elapsed = started.elapsed();
        match answer {
            Ok(DsFanoutResponseBody::Ok) => {
                record_batch(self.name(), BatchResult::Ok, count, elapsed);
                if let Err(error) = self.shared.store.outbox_delete(&batch.ids).await {
                    // Sent again later; the destination stores it once.
                    return self.local_failure("storage", &error);
                }
                tracing::debug!(destination = %self.name(), entries = count, "fan-out delivered");
                self.backoff.reset();
                Step::Again
            }
            Ok(DsFanoutResponseBody::Error(refusal)) => {
                record_batch(self.name(), BatchResult::Refused, count, elapsed);
                let reason = label(refusal.code);
                record_failure(self.name(), reason.clone());
                self.refused(&batch.ids, &reason, &refusal).await
            }
            Err(error) => {
                record_batch(self.name(), BatchResult::Failed, count, elapsed);
                record_failure(self.name(), error.reason().to_owned());
                tracing::warn!(destination = %self.name(), %error, entries = count, "fan-out failed; will retry");
                Step::Failed
            }
        }
    }

    /// After the destination refused the batch `ids`.
    async fn refused(
        &mut self,
        ids: &[u64],
        reason: &str,
        refusal: &ds_core::wire::DsError,
    ) -> Step {
        match (verdict(refusal.code), ids) {
            (Verdict::Isolate, [id]) => {
                tracing::error!(
                    destination = %self.name(), outbox_id = id, %refusal,
                    "fan-out entry refused on its own; moved to the dead letters"
                );
                match self.drop_row(*id, reason).await {
                    Ok(()) => {
                        self.backoff.reset();
                        Step::Again
                    }
                    Err(error) => self.local_failure("storage", &error),
                }
            }
            (Verdict::Isolate, _) => {
                tracing::warn!(
                    destination = %self.name(), entries = ids.len(), %refusal,
                    "fan-out batch refused for one entry; sending one at a time to find it"
                );
                self.isolate_through = ids.iter().copied().max();
                Step::Again
            }
            (Verdict::Retry, _) => {
                tracing::warn!(destination = %self.name(), %refusal, "fan-out refused; will retry");
                Step::Failed
            }
        }
    }

    /// Moves row `id` to the dead letters.
    async fn drop_row(&self, id: u64, reason: &str) -> Result<(), StorageError> {
        if self
            .shared
            .store
            .outbox_dead_letter(id, reason, Timestamp::now())
            .await?
        {
            tracing::error!(destination = %self.name(), outbox_id = id, %reason, "fan-out dropped");
            record_dropped(self.name(), reason.to_owned());
        }
        Ok(())
    }

    /// The signed request for this attempt (fresh timestamp, current key).
    fn request(
        &self,
        entries: Vec<ds_core::wire::DsFanoutEntry>,
    ) -> Result<DsFanoutRequest, tls_codec::Error> {
        let mut request = DsFanoutRequest {
            version: ProtocolVersion::V1,
            sender: self.shared.options.local_domain.clone(),
            recipient_domain: self.destination.clone(),
            key_id: ShortBytes::default(),
            timestamp: Timestamp::now().unix_secs(),
            entries: List::new(entries)?,
            signature: ShortBytes::default(),
        };
        sign_fanout(&self.shared.keyring.current(), &mut request)?;
        Ok(request)
    }

    /// A failure on this side (storage, encoding): logged, counted, retried.
    fn local_failure(&self, reason: &'static str, error: &dyn std::fmt::Display) -> Step {
        tracing::error!(destination = %self.name(), %error, "fan-out delivery: {reason} failure; will retry");
        record_failure(self.name(), reason.to_owned());
        Step::Failed
    }

    /// Takes or renews the lease if due.
    async fn hold_lease(&mut self) -> Result<Lease, StorageError> {
        let options = &self.shared.options;
        if self
            .lease_renewed
            .is_some_and(|at| at.elapsed() < options.lease_renew)
        {
            return Ok(Lease::Held);
        }
        // Held and not lapsed since: nobody else can have sent meanwhile.
        let was_held = self
            .lease_renewed
            .is_some_and(|at| at.elapsed() < options.lease_ttl);
        let taken = self
            .shared
            .store
            .outbox_lease_acquire(
                self.name(),
                &options.holder,
                Timestamp::now(),
                options.lease_ttl,
            )
            .await?;
        Ok(match (taken, was_held) {
            (true, true) => {
                self.lease_renewed = Some(Instant::now());
                Lease::Held
            }
            (true, false) => {
                tracing::debug!(destination = %self.name(), "fan-out lease taken");
                self.lease_renewed = Some(Instant::now());
                Lease::NewlyTaken
            }
            (false, _) => {
                self.lease_renewed = None;
                Lease::Other
            }
        })
    }

    /// Runs `exchange` while renewing the lease on schedule, so a slow peer
    /// does not let another process take over the rows in flight.
    async fn renewing_lease<T>(&mut self, exchange: impl Future<Output = T>) -> T {
        tokio::pin!(exchange);
        let renew = self.shared.options.lease_renew;
        loop {
            tokio::select! {
                out = &mut exchange => return out,
                () = tokio::time::sleep(renew) => {
                    if let Err(error) = self.hold_lease().await {
                        tracing::warn!(destination = %self.name(), %error, "renewing the fan-out lease failed");
                    }
                }
            }
        }
    }

    /// Gives the lease up, if held, so another process may deliver at once
    /// (when stopping).
    async fn release(&mut self) {
        if self.lease_renewed.take().is_none() {
            return;
        }
        let options = &self.shared.options;
        if let Err(error) = self
            .shared
            .store
            .outbox_lease_release(self.name(), &options.holder)
            .await
        {
            tracing::warn!(destination = %self.name(), %error, "releasing the fan-out lease failed");
        }
    }
}

/// Who holds the lease after [`Delivery::hold_lease`].
enum Lease {
    Held,
    NewlyTaken,
    Other,
}
