//! Delay before retrying a destination after a failed batch: exponential
//! with full jitter (a uniformly random delay up to `base * 2^(failures-1)`,
//! capped), so many senders retrying one recovered peer spread out.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// The retry state of one destination.
#[derive(Debug)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    random: Random,
}

impl Backoff {
    pub(crate) fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            failures: 0,
            random: Random::seeded(),
        }
    }

    /// Counts one more failure and returns how long to wait before retrying.
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        full_jitter(
            ceiling(self.base, self.cap, self.failures),
            self.random.next(),
        )
    }

    /// After a success: the next failure waits little again.
    pub(crate) fn reset(&mut self) {
        self.failures = 0;
    }
}

/// The largest delay after `failures` consecutive failures (at least one):
/// `base * 2^(failures-1)`, at most `cap`.
pub(crate) fn ceiling(base: Duration, cap: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1));
    base.saturating_mul(factor).min(cap)
}

/// A delay in `0..=ceiling` picked by `random`, to the millisecond.
pub(crate) fn full_jitter(ceiling: Duration, random: u64) -> Duration {
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(random % millis.saturating_add(1))
}

/// A small non-cryptographic generator (xorshift64*), seeded from the
/// process's random hash keys: jitter needs spread, not secrecy.
#[derive(Debug)]
struct Random(u64);

impl Random {
    fn seeded() -> Self {
        Self(RandomState::new().hash_one(0u64) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(200);
    const CAP: Duration = Duration::from_secs(60);

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let got: Vec<u128> = (1..=11)
            .map(|f| ceiling(BASE, CAP, f).as_millis())
            .collect();
        assert_eq!(
            got,
            vec![
                200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000
            ]
        );
        assert_eq!(ceiling(BASE, CAP, u32::MAX), CAP);
        assert_eq!(ceiling(BASE, CAP, 0), BASE);
    }

    #[test]
    fn jitter_stays_within_zero_and_the_ceiling() {
        let c = Duration::from_millis(800);
        assert_eq!(full_jitter(c, 0), Duration::ZERO);
        assert_eq!(full_jitter(c, 800), c);
        assert_eq!(full_jitter(c, 801), Duration::ZERO);
        assert_eq!(full_jitter(Duration::ZERO, u64::MAX), Duration::ZERO);
    }

    #[test]
    fn delays_are_bounded_spread_and_reset() {
        let mut backoff = Backoff::new(BASE, CAP);
        let mut delays = Vec::new();
        for failure in 1..=40 {
            let delay = backoff.next_delay();
            assert!(delay <= ceiling(BASE, CAP, failure), "failure {failure}");
            delays.push(delay);
        }
        let late = &delays[20..];
        assert!(
            late.iter().any(|d| *d != late[0]),
            "full jitter varies: {late:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay() <= BASE);
    }
}
