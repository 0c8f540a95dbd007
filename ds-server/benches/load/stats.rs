//! What a timed phase produced: answers counted by kind and latencies, with
//! percentiles and a stable one-line rendering.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Counts and latencies of one phase.
#[derive(Debug, Default)]
pub struct Tally {
    /// Requests answered `Ok`.
    pub accepted: usize,
    /// Requests answered with a `DSError`, by error code.
    pub refused: BTreeMap<String, usize>,
    /// Requests with no protocol answer (transport, status, decoding).
    pub failed: usize,
    /// Latency of every answered request.
    pub latencies: Vec<Duration>,
}

impl Tally {
    /// Adds another worker's tally.
    pub fn merge(&mut self, other: Tally) {
        self.accepted += other.accepted;
        for (code, n) in other.refused {
            *self.refused.entry(code).or_default() += n;
        }
        self.failed += other.failed;
        self.latencies.extend(other.latencies);
    }

    /// Total refusals.
    pub fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }

    /// The latency at quantile `q` (nearest rank; 0 when there are none).
    pub fn quantile(&mut self, q: f64) -> Duration {
        self.latencies.sort_unstable();
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// Latency percentiles of this tally.
    pub fn percentiles(&mut self) -> Percentiles {
        Percentiles {
            p50: self.quantile(0.50),
            p99: self.quantile(0.99),
            p999: self.quantile(0.999),
            max: self.latencies.last().copied().unwrap_or_default(),
        }
    }
}

/// Latency percentiles.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50_ms={:.3} p99_ms={:.3} p999_ms={:.3} max_ms={:.3}",
            ms(self.p50),
            ms(self.p99),
            ms(self.p999),
            ms(self.max)
        )
    }
}

/// `code:count,...` of the refusals, or `-`.
pub fn refusals(tally: &Tally) -> String {
    if tally.refused.is_empty() {
        return "-".into();
    }
    let parts: Vec<String> = tally
        .refused
        .iter()
        .map(|(c, n)| format!("{c}:{n}"))
        .collect();
    parts.join(",")
}
