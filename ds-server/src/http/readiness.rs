//! Readiness flag shared by the server and the admin listener's `/readyz`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the DS accepts new work. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// A flag that starts as not ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the server ready (listeners bound, storage connected).
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Marks the server not ready (shutdown began).
    pub fn set_not_ready(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// The current state.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
