//! `mimi-ds`: the delivery service binary.
//!
//! - `mimi-ds serve [--config FILE]` runs the DS (configuration: built-in
//!   defaults, then FILE, then `MIMI_DS__*` environment variables).
//! - `mimi-ds healthcheck [--admin URL] [--config FILE]` asks the admin
//!   listener's `/healthz` and exits 0 when it answers 200 (container
//!   HEALTHCHECK).

use std::future::Future;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use ds_core::group::EngineContext;
use ds_federation::identity::{DsIdentity, IdentityError};
use ds_server::app::App;
use ds_server::config::{Config, ConfigError, TlsSource};
use ds_server::http::probe::{self, ProbeError};
use ds_server::http::{DS_PATH, Readiness};
use ds_server::service::DsService;
use ds_server::storage::{StorageError, Store};
use ds_server::telemetry::{self, TelemetryError};
use ds_server::tls::{self, TlsError};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// Time `healthcheck` waits for an answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

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
    #[error("unhealthy: /healthz answered {0}")]
    Unhealthy(http::StatusCode),
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
    let endpoint = Arc::new(ds_endpoint(store, &config)?);

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

    let app = App {
        tls: tls_config,
        endpoint,
        limits: config.limits,
        metrics: Some(metrics),
        readiness: Readiness::new(),
    };
    app.run(public, admin, shutdown).await;
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
    let base = match admin {
        Some(url) => url,
        None => {
            let address = Config::load(config_file)?.admin_listen;
            format!("http://{}", reachable(address))
        }
    };
    let status = probe::get_status(&base, "/healthz", HEALTHCHECK_TIMEOUT).await?;
    if status == http::StatusCode::OK {
        Ok(())
    } else {
        Err(CliError::Unhealthy(status))
    }
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

/// The file of the DS's Ed25519 signing key, under the data directory.
const IDENTITY_FILE: &str = "ds-signing-key";

/// Builds the handler of `DSRequest`s: the DS request service over `store`,
/// with this DS's persisted signing key as the groups' external sender.
fn ds_endpoint(store: Store, config: &Config) -> Result<DsService, CliError> {
    let identity = DsIdentity::load_or_create(&config.data_dir.join(IDENTITY_FILE))?;
    let ctx = EngineContext::new(config.domain.clone(), identity.public_key().to_vec());
    Ok(DsService::new(ctx, store))
}
