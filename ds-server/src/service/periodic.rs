//! A background task that runs one pass every interval until stopped: the
//! shape of housekeeping and of metric sampling.

use std::future::Future;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// Runs `pass` every `interval`, the first time after `first_after`, until
/// the returned handle is stopped. A pass in progress is finished first.
pub(crate) fn spawn<F, Fut>(
    name: &'static str,
    first_after: Duration,
    interval: Duration,
    mut pass: F,
) -> PeriodicHandle
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(Instant::now() + first_after, interval);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = ticks.tick() => pass().await,
            }
        }
    });
    PeriodicHandle { name, stop, task }
}

/// A running periodic task.
#[derive(Debug)]
pub struct PeriodicHandle {
    name: &'static str,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl PeriodicHandle {
    /// Stops the task after any pass in progress and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(task = self.name, %error, "background task failed");
        }
    }
}
