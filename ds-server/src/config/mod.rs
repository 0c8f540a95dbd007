//! The server configuration: built-in defaults, then an optional TOML file,
//! then `MIMI_DS__*` environment variables (`__` separates sections, so
//! `MIMI_DS__LISTEN__ADDRESS` sets `listen.address`), validated into a
//! [`Config`]. Every option is documented in `deploy/mimi-ds.example.toml`.

mod error;
mod federation;
mod raw;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::config::{Environment, File, FileFormat};
use ds_core::wire::Domain;

pub use error::ConfigError;
pub use federation::FederationConfig;
use raw::{RawConfig, RawLimits, RawPush, RawQueue, RawRemoval, RawRetention};

use crate::http::Limits;
use crate::http::rate_limit::RateQuota;
use crate::push::PushOptions;
use crate::service::{HousekeepingOptions, RegistrationPolicy, ServiceOptions};

/// The built-in defaults, embedded in the binary.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// Prefix of the environment variables that override the configuration.
pub const ENV_PREFIX: &str = "MIMI_DS";

/// Separator of prefix and nested keys in environment variable names.
pub const ENV_SEPARATOR: &str = "__";

/// Largest accepted `limits.max_body_bytes` (1 GiB).
pub const MAX_BODY_BYTES_CEILING: u64 = 1 << 30;

/// Largest accepted timeout, in seconds (one hour).
pub const MAX_TIMEOUT_SECS: u64 = 3600;

/// Largest accepted `queue.max_page_entries` (what one page can encode).
pub const MAX_PAGE_ENTRIES_CEILING: u64 = ds_core::wire::limits::MAX_SYNC_ENTRIES as u64;

/// Largest accepted request rate or burst of a `[limits]` quota.
pub const MAX_RATE: u64 = 10_000_000;

/// Largest accepted `retention.log_retention_secs` (ten years).
pub const MAX_RETENTION_SECS: u64 = 10 * 365 * 24 * 3600;

/// Name of the SQLite database file inside the data directory (default URL).
pub const DEFAULT_SQLITE_FILE: &str = "mimi-ds.sqlite3";

/// A validated server configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// This DS's domain.
    pub domain: Domain,
    /// Address of the public HTTPS listener.
    pub listen: SocketAddr,
    /// Address of the plain-HTTP admin listener (health, readiness, metrics).
    pub admin_listen: SocketAddr,
    /// Directory for the database (SQLite default), the dev certificate and other state.
    pub data_dir: PathBuf,
    /// Where the TLS certificate comes from.
    pub tls: TlsSource,
    /// sqlx database URL (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// Transport limits (the per-address rate among them).
    pub limits: Limits,
    /// Requests per authenticated client (queue requests, push subscriptions).
    pub client_rate: RateQuota,
    /// Logging.
    pub log: LogConfig,
    /// Who may register clients with the queue service.
    pub registration: RegistrationPolicy,
    /// Queue service settings.
    pub queue: QueueConfig,
    /// How long a registration token issued by `POST /admin/v1/tokens` stays valid.
    pub token_ttl: Duration,
    /// DS-induced removal of inactive clients.
    pub removal: RemovalConfig,
    /// Housekeeping: how often it runs and how long unread entries are kept.
    pub retention: HousekeepingOptions,
    /// Pacing of the live-push channel.
    pub push: PushOptions,
    /// Trust roots and known peers for talking to other domains' DSs.
    pub federation: FederationConfig,
}

/// `[removal]`: when the DS removes inactive clients from their groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalConfig {
    /// Clients not seen this long are removed; `None` (configured 0): never.
    pub inactivity_timeout: Option<Duration>,
    /// How often the sweeper looks for them.
    pub sweep_interval: Duration,
}

/// `[queue]`: how the queue service authenticates and pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// How far a signed request's timestamp may be from the server's clock.
    pub freshness_window: Duration,
    /// Most entries of one sync page.
    pub max_page_entries: u32,
}

/// Where the server's certificate and key come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given by the operator.
    Files {
        /// Certificate chain (leaf first).
        cert: PathBuf,
        /// Private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// A self-signed development certificate, generated into the data directory
    /// on first start and reused afterwards.
    DevSelfSigned,
}

/// Log output settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Line format.
    pub format: LogFormat,
    /// `tracing-subscriber` env-filter directives (`RUST_LOG` wins when set).
    pub filter: String,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// Loads the defaults, the optional `file` and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, None)
    }

    /// Like [`Config::load`], but reads the overrides from `env` instead of
    /// the process environment when it is `Some` (for tests and tools).
    pub fn load_with_env(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, ConfigError> {
        let mut builder =
            ::config::Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            builder = builder.add_source(File::from(path).format(FileFormat::Toml));
        }
        let environment = Environment::with_prefix(ENV_PREFIX)
            .prefix_separator(ENV_SEPARATOR)
            .separator(ENV_SEPARATOR)
            .try_parsing(true)
            .source(env);
        let raw: RawConfig = builder.add_source(environment).build()?.try_deserialize()?;
        Self::validate(raw)
    }

    fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let domain = Domain::new(&raw.domain)?;
        let listen = parse_address("listen.address", &raw.listen.address)?;
        let admin_listen = parse_address("admin.address", &raw.admin.address)?;
        if raw.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::EmptyDataDir);
        }
        let tls = match (raw.tls.cert, raw.tls.key) {
            (Some(cert), Some(key)) => TlsSource::Files { cert, key },
            (None, None) => TlsSource::DevSelfSigned,
            (Some(_), None) => return Err(ConfigError::TlsIncomplete { set: "tls.cert" }),
            (None, Some(_)) => return Err(ConfigError::TlsIncomplete { set: "tls.key" }),
        };
        let database_url = match raw.database_url {
            Some(url) => validate_database_url(url)?,
            None => format!(
                "sqlite://{}",
                raw.data_dir.join(DEFAULT_SQLITE_FILE).display()
            ),
        };
        let limits = validate_limits(&raw.limits)?;
        let format = match raw.log.format.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(ConfigError::LogFormat(other.to_owned())),
        };
        let registration = match raw.registration.policy.as_str() {
            "open" => RegistrationPolicy::Open,
            "token" => RegistrationPolicy::Token,
            other => return Err(ConfigError::RegistrationPolicy(other.to_owned())),
        };
        let queue = validate_queue(&raw.queue)?;
        let token_ttl = Duration::from_secs(positive(
            "admin.token_ttl_secs",
            raw.admin.token_ttl_secs,
            MAX_LONG_SECS,
        )?);
        let removal = validate_removal(&raw.removal)?;
        let client_rate = quota(
            (
                "limits.requests_per_second_per_client",
                raw.limits.requests_per_second_per_client,
            ),
            ("limits.burst_per_client", raw.limits.burst_per_client),
        )?;
        let retention = validate_retention(&raw.retention)?;
        let push = validate_push(&raw.push)?;
        let federation = federation::validate_federation(raw.federation, &domain)?;
        if let Err(e) = raw.log.filter.parse::<tracing_subscriber::EnvFilter>() {
            return Err(ConfigError::LogFilter {
                value: raw.log.filter,
                reason: e.to_string(),
            });
        }
        Ok(Self {
            domain,
            listen,
            admin_listen,
            data_dir: raw.data_dir,
            tls,
            database_url,
            limits,
            client_rate,
            log: LogConfig {
                format,
                filter: raw.log.filter,
            },
            registration,
            queue,
            token_ttl,
            removal,
            retention,
            push,
            federation,
        })
    }

    /// The service's options as configured.
    pub fn service_options(&self) -> ServiceOptions {
        ServiceOptions {
            registration: self.registration,
            freshness_window: self.queue.freshness_window,
            max_page_entries: self.queue.max_page_entries,
            inactivity_timeout: self.removal.inactivity_timeout,
            push: self.push,
            client_rate: self.client_rate,
            housekeeping: self.retention,
        }
    }
}

fn parse_address(field: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError::Address {
        field,
        value: value.to_owned(),
    })
}

fn validate_database_url(url: String) -> Result<String, ConfigError> {
    let supported = ["sqlite:", "postgres://", "postgresql://"];
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if supported.iter().any(|p| url.starts_with(p)) && url.len() > "sqlite:".len() && !in_memory {
        Ok(url)
    } else {
        Err(ConfigError::DatabaseUrl(url))
    }
}

/// `value` if it is in `1..=max`.
pub(super) fn positive(field: &'static str, value: u64, max: u64) -> Result<u64, ConfigError> {
    if value == 0 {
        Err(ConfigError::Zero { field })
    } else if value > max {
        Err(ConfigError::TooLarge { field, value, max })
    } else {
        Ok(value)
    }
}

/// Largest accepted token lifetime and inactivity timeout, in seconds (one year).
pub const MAX_LONG_SECS: u64 = 365 * 24 * 3600;

fn validate_removal(raw: &RawRemoval) -> Result<RemovalConfig, ConfigError> {
    let inactivity_timeout = match raw.inactivity_timeout_secs {
        0 => None,
        secs => Some(Duration::from_secs(positive(
            "removal.inactivity_timeout_secs",
            secs,
            MAX_LONG_SECS,
        )?)),
    };
    let interval = positive(
        "removal.sweep_interval_secs",
        raw.sweep_interval_secs,
        MAX_TIMEOUT_SECS,
    )?;
    Ok(RemovalConfig {
        inactivity_timeout,
        sweep_interval: Duration::from_secs(interval),
    })
}

fn validate_queue(raw: &RawQueue) -> Result<QueueConfig, ConfigError> {
    let window = positive(
        "queue.freshness_window_secs",
        raw.freshness_window_secs,
        MAX_TIMEOUT_SECS,
    )?;
    let entries = positive(
        "queue.max_page_entries",
        raw.max_page_entries,
        MAX_PAGE_ENTRIES_CEILING,
    )?;
    Ok(QueueConfig {
        freshness_window: Duration::from_secs(window),
        max_page_entries: u32::try_from(entries).unwrap_or(u32::MAX),
    })
}

fn validate_limits(raw: &RawLimits) -> Result<Limits, ConfigError> {
    let body = positive(
        "limits.max_body_bytes",
        raw.max_body_bytes,
        MAX_BODY_BYTES_CEILING,
    )?;
    // Tokio's semaphore holds at most `usize::MAX >> 3` permits.
    let max_permits = (usize::MAX >> 3) as u64;
    let connections = positive("limits.max_connections", raw.max_connections, max_permits)?;
    let header = positive(
        "limits.header_read_timeout_secs",
        raw.header_read_timeout_secs,
        MAX_TIMEOUT_SECS,
    )?;
    let handshake = positive(
        "limits.tls_handshake_timeout_secs",
        raw.tls_handshake_timeout_secs,
        MAX_TIMEOUT_SECS,
    )?;
    Ok(Limits {
        max_body_bytes: usize::try_from(body).unwrap_or(usize::MAX),
        max_connections: usize::try_from(connections).unwrap_or(usize::MAX >> 3),
        header_read_timeout: Duration::from_secs(header),
        tls_handshake_timeout: Duration::from_secs(handshake),
        per_address: quota(
            (
                "limits.requests_per_second_per_address",
                raw.requests_per_second_per_address,
            ),
            ("limits.burst_per_address", raw.burst_per_address),
        )?,
    })
}

/// A rate and burst, each `0..=MAX_RATE`; a rate of 0 means unlimited, a
/// burst of 0 one second's worth.
fn quota(rate: (&'static str, u64), burst: (&'static str, u64)) -> Result<RateQuota, ConfigError> {
    let bounded = |(field, value): (&'static str, u64)| {
        if value > MAX_RATE {
            Err(ConfigError::TooLarge {
                field,
                value,
                max: MAX_RATE,
            })
        } else {
            Ok(u32::try_from(value).unwrap_or(u32::MAX))
        }
    };
    Ok(RateQuota {
        per_second: bounded(rate)?,
        burst: bounded(burst)?,
    })
}

fn validate_retention(raw: &RawRetention) -> Result<HousekeepingOptions, ConfigError> {
    let retention = positive(
        "retention.log_retention_secs",
        raw.log_retention_secs,
        MAX_RETENTION_SECS,
    )?;
    let interval = positive(
        "retention.housekeeping_interval_secs",
        raw.housekeeping_interval_secs,
        MAX_TIMEOUT_SECS,
    )?;
    Ok(HousekeepingOptions {
        interval: Duration::from_secs(interval),
        log_retention: Duration::from_secs(retention),
    })
}

fn validate_push(raw: &RawPush) -> Result<PushOptions, ConfigError> {
    let poll = positive(
        "push.poll_interval_secs",
        raw.poll_interval_secs,
        MAX_TIMEOUT_SECS,
    )?;
    let first_frame = positive(
        "push.first_frame_timeout_secs",
        raw.first_frame_timeout_secs,
        MAX_TIMEOUT_SECS,
    )?;
    Ok(PushOptions {
        poll_interval: Duration::from_secs(poll),
        first_frame_timeout: Duration::from_secs(first_frame),
        ..PushOptions::default()
    })
}
