//! The configuration as written: the shape of the TOML file and of the
//! `MIMI_DS__*` environment variables, before validation.

use std::path::PathBuf;

use serde::Deserialize;

/// Top level of the configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub domain: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub listen: RawListen,
    pub admin: RawAdmin,
    pub tls: RawTls,
    pub limits: RawLimits,
    pub log: RawLog,
    pub registration: RawRegistration,
    pub queue: RawQueue,
    pub removal: RawRemoval,
    pub retention: RawRetention,
    pub push: RawPush,
    pub federation: super::federation::RawFederation,
}

/// The `[listen]` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListen {
    pub address: String,
}

/// `[admin]`: the admin listener and what its commands issue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    pub address: String,
    pub token_ttl_secs: u64,
}

/// `[removal]`: DS-induced removal of inactive clients (0 = never).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRemoval {
    pub inactivity_timeout_secs: u64,
    pub sweep_interval_secs: u64,
}

/// `[tls]`: both paths or neither.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// `[limits]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub max_body_bytes: u64,
    pub max_connections: u64,
    pub header_read_timeout_secs: u64,
    pub tls_handshake_timeout_secs: u64,
    pub requests_per_second_per_address: u64,
    pub burst_per_address: u64,
    pub requests_per_second_per_client: u64,
    pub burst_per_client: u64,
}

/// `[retention]`: housekeeping and how long unread entries are kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub log_retention_secs: u64,
    pub housekeeping_interval_secs: u64,
}

/// `[push]`: pacing of the live-push channel.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPush {
    pub poll_interval_secs: u64,
    pub first_frame_timeout_secs: u64,
}

/// `[log]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub format: String,
    pub filter: String,
}

/// `[registration]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegistration {
    pub policy: String,
}

/// `[queue]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    pub freshness_window_secs: u64,
    pub max_page_entries: u64,
}
