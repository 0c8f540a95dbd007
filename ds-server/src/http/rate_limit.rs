//! Request rate limits (GCRA, the `governor` crate), keyed by source address
//! here and by authenticated client in the service. A limited request is
//! answered before it costs anything: HTTP `429` with `Retry-After` and a
//! protocol body whose error code is `RateLimited` (spec §12).

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use ds_core::wire::{DsError, DsErrorCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// A sustained rate with a burst allowance; `per_second = 0` disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    /// Requests per second, sustained.
    pub per_second: u32,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
}

impl RateQuota {
    /// No limit.
    pub const UNLIMITED: Self = Self {
        per_second: 0,
        burst: 0,
    };

    /// Default per source address: generous enough for many clients behind
    /// one NAT, small enough to blunt a single flooding host.
    pub const PER_ADDRESS_DEFAULT: Self = Self {
        per_second: 2_000,
        burst: 4_000,
    };

    /// Default per authenticated client: far above what a real device syncs.
    pub const PER_CLIENT_DEFAULT: Self = Self {
        per_second: 200,
        burst: 400,
    };
}

/// A limiter per key (address or client id), built from a [`RateQuota`].
#[derive(Debug)]
pub struct KeyedLimit<K: Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    /// A limiter enforcing `quota` for each key separately.
    pub fn new(quota: RateQuota) -> Self {
        let limiter = NonZeroU32::new(quota.per_second).map(|rate| {
            let burst = NonZeroU32::new(quota.burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self { limiter }
    }

    /// `Ok` if `key` may make a request now (and counts it), else how long
    /// to wait before the next one would be allowed.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets keys whose state is back to full burst (call now and then so
    /// the table does not grow with every address ever seen).
    pub fn shrink(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The limiter of the public listener: requests per source address.
pub type AddressLimit = KeyedLimit<IpAddr>;

/// `Retry-After` value (whole seconds, at least 1) for a wait.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The `RateLimited` refusal of a request from `who` ("this address",
/// "this client") that may be retried after `wait`.
pub fn refusal(who: &str, wait: Duration) -> DsError {
    DsError::new(
        DsErrorCode::RateLimited,
        format!(
            "too many requests from {who}; retry after {} s (Retry-After)",
            retry_after_secs(wait)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_with_a_wait_per_key() {
        let limit = KeyedLimit::<u8>::new(RateQuota {
            per_second: 1,
            burst: 3,
        });
        for _ in 0..3 {
            assert_eq!(limit.check(&1), Ok(()));
        }
        let wait = limit.check(&1).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert_eq!(limit.check(&2), Ok(()), "keys are limited separately");
    }

    #[test]
    fn zero_rate_means_unlimited() {
        let limit = KeyedLimit::<u8>::new(RateQuota::UNLIMITED);
        for _ in 0..10_000 {
            assert_eq!(limit.check(&1), Ok(()));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn refusal_names_the_code_and_the_wait() {
        let error = refusal("this client", Duration::from_millis(2500));
        assert_eq!(error.code, DsErrorCode::RateLimited);
        assert!(error.to_string().contains("retry after 3 s"), "{error}");
    }
}
