//! Timing of the live-push channel.

use std::time::Duration;

/// How the push channel paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushOptions {
    /// A feed re-reads storage at least this often even when no wake-up came,
    /// so entries committed by another DS process sharing the database are
    /// delivered too (within about this delay).
    pub poll_interval: Duration,
    /// The server pings an open push connection this often; a peer that sent
    /// nothing (not even a pong) during one whole interval is disconnected.
    pub ping_interval: Duration,
    /// Time a client has to send its `subscribe` frame after the upgrade.
    pub first_frame_timeout: Duration,
    /// Time the server waits for a peer to take its closing frame.
    pub close_timeout: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(3),
            ping_interval: Duration::from_secs(30),
            first_frame_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(2),
        }
    }
}
