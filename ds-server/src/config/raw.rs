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
    pub admin: RawListen,
    pub tls: RawTls,
    pub limits: RawLimits,
    pub log: RawLog,
}

/// A listener section (`[listen]`, `[admin]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawListen {
    pub address: String,
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
}

/// `[log]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    pub format: String,
    pub filter: String,
}
