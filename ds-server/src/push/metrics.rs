//! Names and recording of the push channel's metrics.

/// Gauge of open push connections (subscribed or still waiting for the
/// subscribe frame).
pub const PUSH_CONNECTIONS: &str = "mimi_push_connections";

/// Counter of entries sent over push connections (inbox and group entries).
pub const PUSH_ENTRIES_TOTAL: &str = "mimi_push_entries_total";

/// Counter of refused subscribe frames, labelled `code`.
pub const PUSH_REFUSED_TOTAL: &str = "mimi_push_refused_total";

/// Counts one open push connection for as long as it lives.
#[derive(Debug)]
pub struct ConnectionGauge(());

impl ConnectionGauge {
    /// Counts a connection that just opened.
    pub fn open() -> Self {
        metrics::gauge!(PUSH_CONNECTIONS).increment(1.0);
        Self(())
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        metrics::gauge!(PUSH_CONNECTIONS).decrement(1.0);
    }
}

/// Records `entries` sent in one frame.
pub fn record_pushed(entries: usize) {
    metrics::counter!(PUSH_ENTRIES_TOTAL).increment(u64::try_from(entries).unwrap_or(u64::MAX));
}

/// Records a refused subscribe frame (label: the code's name, e.g.
/// `InvalidRequestSignature`).
pub fn record_refused(code: ds_core::wire::DsErrorCode) {
    metrics::counter!(PUSH_REFUSED_TOTAL, "code" => format!("{code:?}")).increment(1);
}
