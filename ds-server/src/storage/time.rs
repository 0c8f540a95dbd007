//! Wall-clock instants as the storage layer keeps them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::StorageError;
use super::numbers::to_db;

/// A point in time in whole seconds since the Unix epoch. Every time-dependent
/// operation takes one explicitly, so tests and replicas decide what "now" is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// The current wall-clock time (the epoch itself if the clock is before it).
    pub fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_secs(self) -> u64 {
        self.0
    }

    /// `self - duration`, clamped at the epoch (for "older than" cut-offs).
    pub fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_secs()))
    }

    /// `self + duration`, clamped at the largest instant (for expiry times).
    pub fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_secs()))
    }

    pub(super) fn to_db(self) -> Result<i64, StorageError> {
        to_db(self.0, "timestamp")
    }

    pub(super) fn from_db(secs: i64) -> Result<Self, StorageError> {
        super::numbers::from_db(secs, "timestamp").map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_unix_secs(10);
        assert_eq!(t.saturating_sub(Duration::from_secs(20)).unix_secs(), 0);
        assert_eq!(t.saturating_add(Duration::from_secs(5)).unix_secs(), 15);
        assert_eq!(
            Timestamp::from_unix_secs(u64::MAX)
                .saturating_add(Duration::from_secs(1))
                .unix_secs(),
            u64::MAX
        );
        assert!(Timestamp::now().unix_secs() > 1_700_000_000);
    }
}
