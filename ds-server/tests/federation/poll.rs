//! Waiting for something another process does: a polling loop with a
//! generous deadline that fails with a clear message, never a bare sleep.
//!
//! ```ignore
//! let wait = Wait::new("bob to read entry 7");
//! while !done() {
//!     wait.step().await;
//! }
//! ```

use std::time::{Duration, Instant};

/// How long anything asynchronous (a fan-out, a restart) may take.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Pause between two looks.
const STEP: Duration = Duration::from_millis(50);

/// One wait for a named condition.
pub struct Wait {
    what: String,
    end: Instant,
}

impl Wait {
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            end: Instant::now() + DEADLINE,
        }
    }

    /// Pauses before the next look; panics once the deadline passed.
    pub async fn step(&self) {
        assert!(
            Instant::now() < self.end,
            "gave up after {DEADLINE:?} waiting for {}",
            self.what
        );
        tokio::time::sleep(STEP).await;
    }
}
