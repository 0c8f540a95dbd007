//! Resource limits of the transport.

use std::time::Duration;

use super::rate_limit::RateQuota;

/// Limits applied by the HTTPS listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted; larger ones get `413 Payload Too Large`.
    pub max_body_bytes: usize,
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// Time an HTTP/1.1 client has to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time a client has to complete the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Requests per source address; over it, `429 Too Many Requests`.
    pub per_address: RateQuota,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            per_address: RateQuota::PER_ADDRESS_DEFAULT,
        }
    }
}
