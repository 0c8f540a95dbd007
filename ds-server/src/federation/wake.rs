//! The signal from the commit paths to the fan-out sender: "the outbox has
//! new rows". A wake before the sender waits is kept (one permit), so none
//! is lost; several wakes before it looks count as one.

use std::sync::Arc;

use tokio::sync::Notify;

/// Wakes the fan-out sender; cheap to clone. Without a running sender a
/// wake does nothing (the rows wait in storage for the next start).
#[derive(Debug, Clone, Default)]
pub struct FanoutWake(Arc<Notify>);

impl FanoutWake {
    /// A wake not yet connected to a sender.
    pub fn new() -> Self {
        Self::default()
    }

    /// Call after a commit that wrote outbox rows (never before: the sender
    /// reads from storage and would find nothing).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next wake (or at once if one came since the last).
    pub(crate) async fn woken(&self) {
        self.0.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_wake_before_waiting_is_not_lost() {
        let wake = FanoutWake::new();
        wake.clone().wake();
        tokio::time::timeout(Duration::from_secs(1), wake.woken())
            .await
            .expect("the earlier wake is kept");
        // Only one permit: a second wait blocks.
        let again = tokio::time::timeout(Duration::from_millis(20), wake.woken()).await;
        assert!(again.is_err());
    }
}
