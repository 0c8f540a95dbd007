//! `mimi-ds`: the delivery service binary.
//!
//! - `mimi-ds serve [--config FILE]` runs the DS (configuration: built-in
//!   defaults, then FILE, then `MIMI_DS__*` environment variables).
//! - `mimi-ds healthcheck [--admin URL] [--config FILE]` asks the admin
//!   listener's `/healthz` and exits 0 when it answers 200 (container
//!   HEALTHCHECK).
//! - `mimi-ds admin [--admin URL] [--config FILE] COMMAND` sends an operator
//!   command (`issue-token`, `delete-client ID`, `delete-user ID`, `status`)
//!   to the admin listener, prints the answer and exits non-zero when the
//!   command failed.

use std::future::Future;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ds_core::group::EngineContext;
use ds_federation::{ClientError, DsKeyring, IdentityError};
use ds_server::app::{App, Operator};
use ds_server::config::{Config, ConfigError, TlsSource};
use ds_server::http::probe::{self, ProbeError};
use ds_server::http::{DS_PATH, Readiness};
use ds_server::service::{DsService, Peering};
use ds_server::storage::{StorageError, Store, Timestamp};
use ds_server::telemetry::{self, TelemetryError};
use ds_server::tls::{self, TlsError};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// Time `healthcheck` waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Time `admin` waits for an answer (a deletion visits every group of the
/// client).
const ADMIN_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Parser)]
#[command(
    name = "mimi-ds",
    version,
    about = "MIMI federated MLS delivery service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the delivery service until SIGTERM or SIGINT.
    Serve {
        /// TOML configuration file (see deploy/mimi-ds.example.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Check the admin listener's /healthz; exit 0 when healthy, 1 otherwise.
    Healthcheck {
        /// Admin listener base URL, e.g. http://127.0.0.1:9443 (default: from the configuration).
        #[arg(long, value_name = "URL")]
        admin: Option<String>,
        /// Configuration file to read the admin address from when --admin is not given.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Send an operator command to the admin listener and print the answer.
    Admin {
        /// Admin listener base URL, e.g. http://127.0.0.1:9443 (default: from the configuration).
        #[arg(long, value_name = "URL", global = true)]
        admin: Option<String>,
        /// Configuration file to read the admin address from when --admin is not given.
        #[arg(long, value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// The operator commands (`/admin/v1/…` on the admin listener).
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Issue a one-time client registration token and print it.
    IssueToken,
    /// Remove a client from all its groups (DS-signed Remove proposals), then
    /// delete its registration and everything stored for it.
    DeleteClient {
        /// The client id, `user@domain/device`.
        client_id: String,
    },
    /// Delete every registered client of a user, like delete-client.
    DeleteUser {
        /// The user id, `user@domain`.
        user_id: String,
    },
    /// Print the DS's status as JSON.
    Status,
    /// Retire the DS's current signing key and make a new one current; the
    /// old key stays published for `federation.key_grace_secs`.
    RotateKey,
}

/// Why the binary stopped with an error.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The client of other domains' DSs could not be built (trust roots).
    #[error("federation client: {0}")]
    PeerClient(#[from] ClientError),
    #[error("unhealthy: /healthz answered {0}")]
    Unhealthy(http::StatusCode),
    #[error("the admin listener answered {status}: {reason}")]
    AdminRefused {
        status: http::StatusCode,
        reason: String,
    },
    #[error(transparent)]
    Operator(#[from] ds_server::service::OperatorError),
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
    let what = what.into();
    move |source| CliError::Io { what, source }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mimi-ds: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve { config } => serve(config.as_deref()).await,
            Command::Healthcheck { admin, config } => healthcheck(admin, config.as_deref()).await,
            Command::Admin {
                admin,
                config,
                command,
            } => admin_command(admin, config.as_deref(), &command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mimi-ds: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config_file: Option<&Path>) -> Result<(), CliError> {
    let config = Config::load(config_file)?;
    telemetry::init_logging(&config.log)?;
    // Signal handlers first: a SIGTERM that arrives while starting up must
    // lead to a graceful stop, not to the default (killing) action.
    let shutdown = shutdown_signal().map_err(io_error("installing signal handlers"))?;
    let metrics = telemetry::install_metrics_recorder()?;
    telemetry::spawn_metrics_upkeep(metrics.clone());

    std::fs::create_dir_all(&config.data_dir).map_err(io_error(format!(
        "creating data directory {}",
        config.data_dir.display()
    )))?;
    let (cert, key) = match &config.tls {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::DevSelfSigned => {
            let dev = tls::ensure_dev_cert(&config.data_dir, config.domain.as_str())?;
            if dev.generated {
                tracing::warn!(cert = %dev.cert.display(), "generated a self-signed development certificate");
            }
            (dev.cert, dev.key)
        }
    };
    let tls_config = tls::server_config(&cert, &key)?;
    let store = Store::connect(&config.database_url).await?;
    let endpoint = Arc::new(ds_endpoint(store.clone(), &config)?);

    let public = TcpListener::bind(config.listen)
        .await
        .map_err(io_error(format!("binding {}", config.listen)))?;
    let admin = TcpListener::bind(config.admin_listen)
        .await
        .map_err(io_error(format!("binding {}", config.admin_listen)))?;
    let public_addr = public
        .local_addr()
        .map_err(io_error("reading the public address"))?;
    let admin_addr = admin
        .local_addr()
        .map_err(io_error("reading the admin address"))?;
    announce(&config, public_addr, admin_addr, &cert)?;
    tracing::info!(domain = %config.domain.as_str(), %public_addr, %admin_addr, "serving");

    let service = DsService::clone(&endpoint);
    let app = App {
        tls: tls_config,
        endpoint,
        limits: config.limits,
        metrics: Some(metrics),
        readiness: Readiness::new(),
        operator: Some(Operator {
            service,
            token_ttl: config.token_ttl,
            sweep_interval: config.removal.sweep_interval,
        }),
    };
    app.run(public, admin, shutdown).await;
    // Every request has finished: close the pool so SQLite checkpoints its
    // WAL and the database is a single file again.
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Tells the operator (stdout) where the server listens and which
/// certificate it presents.
fn announce(
    config: &Config,
    public: SocketAddr,
    admin: SocketAddr,
    cert: &Path,
) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "mimi-ds: domain {} listening on https://{public}{DS_PATH}",
        config.domain.as_str()
    )
    .and_then(|()| writeln!(out, "mimi-ds: admin listening on http://{admin}"))
    .and_then(|()| writeln!(out, "mimi-ds: TLS certificate {}", cert.display()))
    .and_then(|()| out.flush())
    .map_err(io_error("writing to stdout"))
}

/// Completes on the first SIGTERM or SIGINT.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
    })
}

async fn healthcheck(admin: Option<String>, config_file: Option<&Path>) -> Result<(), CliError> {
    let base = admin_base(admin, config_file)?;
    let status = probe::get_status(&base, "/healthz", HEALTHCHECK_TIMEOUT).await?;
    if status == http::StatusCode::OK {
        Ok(())
    } else {
        Err(CliError::Unhealthy(status))
    }
}

/// The admin listener's base URL: `--admin`, or the configured address.
fn admin_base(admin: Option<String>, config_file: Option<&Path>) -> Result<String, CliError> {
    match admin {
        Some(url) => Ok(url),
        None => {
            let address = Config::load(config_file)?.admin_listen;
            Ok(format!("http://{}", reachable(address)))
        }
    }
}

/// Sends one operator command and prints the answer's body on stdout.
async fn admin_command(
    admin: Option<String>,
    config_file: Option<&Path>,
    command: &AdminCommand,
) -> Result<(), CliError> {
    let base = admin_base(admin, config_file)?;
    let (method, path) = match command {
        AdminCommand::IssueToken => (http::Method::POST, "/admin/v1/tokens".to_owned()),
        AdminCommand::DeleteClient { client_id } => (
            http::Method::DELETE,
            format!("/admin/v1/clients/{}", path_segment(client_id)),
        ),
        AdminCommand::DeleteUser { user_id } => (
            http::Method::DELETE,
            format!("/admin/v1/users/{}", path_segment(user_id)),
        ),
        AdminCommand::Status => (http::Method::GET, "/admin/v1/status".to_owned()),
        AdminCommand::RotateKey => (http::Method::POST, "/admin/v1/keys/rotate".to_owned()),
    };
    let answer = probe::request(&base, method, &path, ADMIN_TIMEOUT).await?;
    if !answer.status.is_success() {
        return Err(CliError::AdminRefused {
            status: answer.status,
            reason: answer.body.trim_end().to_owned(),
        });
    }
    let mut out = std::io::stdout().lock();
    out.write_all(answer.body.as_bytes())
        .and_then(|()| out.flush())
        .map_err(io_error("writing to stdout"))
}

/// `id` percent-encoded for a path segment: everything but unreserved
/// characters and `@`, so `/` or `?` in a mistyped id cannot change the route.
fn path_segment(id: &str) -> String {
    let mut encoded = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    encoded
}

/// A wildcard listen address is probed on the loopback of its family.
fn reachable(address: SocketAddr) -> SocketAddr {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, address.port())
}

/// The single-seed key file of earlier versions, imported into the keyring.
const LEGACY_IDENTITY_FILE: &str = "ds-signing-key";
/// The directory of the DS's signing keys, under the data directory.
const KEYRING_DIR: &str = "ds-keys";

/// Builds the handler of `DSRequest`s: the DS request service over `store`,
/// with this DS's persisted signing keys (groups' external sender, fan-out
/// and voucher signatures) and the client of other domains' DSs.
fn ds_endpoint(store: Store, config: &Config) -> Result<DsService, CliError> {
    let now = Timestamp::now().unix_secs();
    let keyring = DsKeyring::load_or_create(
        &config.data_dir.join(KEYRING_DIR),
        Some(&config.data_dir.join(LEGACY_IDENTITY_FILE)),
        now,
    )?;
    let peering = Peering::new(config.domain.clone(), keyring, &config.federation)?;
    let ctx = EngineContext::new(
        config.domain.clone(),
        peering.keyring.current().public_key().to_vec(),
    )
    .with_previous_keys(
        peering
            .keyring
            .retired_public_keys()
            .iter()
            .map(|k| k.to_vec()),
    )
    .with_voucher_keys(Arc::new(peering.peer_keys.clone()));
    let service = DsService::with_options(ctx, store, config.service_options());
    Ok(service.with_peering(peering)?)
}
