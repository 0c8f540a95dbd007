//! Why a configuration was refused.

use std::path::PathBuf;

/// A configuration that could not be loaded or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The named configuration file does not exist.
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    /// The file or an environment variable could not be read or has the wrong type.
    #[error("cannot load configuration: {0}")]
    Load(#[from] ::config::ConfigError),
    /// A `[[federation.peers]]` entry is invalid.
    #[error("federation peer {domain:?}: {reason}")]
    Peer {
        /// The peer's domain as written.
        domain: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `federation.trust_roots` file does not exist.
    #[error("federation trust root {0} is not a file")]
    TrustRoot(PathBuf),
    /// `domain` is not a valid DS domain.
    #[error("invalid domain: {0}")]
    Domain(#[from] ds_core::wire::IdError),
    /// A listen address is not `IP:port`.
    #[error("invalid {field} {value:?}: expected IP:port, e.g. 127.0.0.1:8443 or [::1]:8443")]
    Address {
        /// The configuration key.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// Only one of `tls.cert` and `tls.key` is set.
    #[error("tls.cert and tls.key must be set together, but only {set} is set")]
    TlsIncomplete {
        /// The key that is set.
        set: &'static str,
    },
    /// A limit that must be positive is zero.
    #[error("{field} must be greater than zero")]
    Zero {
        /// The configuration key.
        field: &'static str,
    },
    /// A limit exceeds what the server supports.
    #[error("{field} = {value} exceeds the maximum of {max}")]
    TooLarge {
        /// The configuration key.
        field: &'static str,
        /// The value found.
        value: u64,
        /// The largest accepted value.
        max: u64,
    },
    /// `data_dir` is empty.
    #[error("data_dir must not be empty")]
    EmptyDataDir,
    /// `database_url` names no supported database.
    #[error(
        "invalid database_url {0:?}: expected sqlite://PATH (a file, not in-memory) or postgres://…"
    )]
    DatabaseUrl(String),
    /// `registration.policy` is neither `open` nor `token`.
    #[error("invalid registration.policy {0:?}: expected \"open\" or \"token\"")]
    RegistrationPolicy(String),
    /// `log.format` is neither `text` nor `json`.
    #[error("invalid log.format {0:?}: expected \"text\" or \"json\"")]
    LogFormat(String),
    /// `log.filter` is not a valid tracing filter directive.
    #[error("invalid log.filter {value:?}: {reason}")]
    LogFilter {
        /// The value found.
        value: String,
        /// Why the filter did not parse.
        reason: String,
    },
}
