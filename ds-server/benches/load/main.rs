//! Load generator for `mimi-ds` (a bench target, not a timed test).
//!
//! It starts the real server binary (`target/release/mimi-ds`, or
//! `$MIMI_DS_BIN`) as a child process with a fresh data directory (SQLite by
//! default, `--database-url` for PostgreSQL) and its self-made development
//! certificate, and talks to it over TLS 1.3 + HTTP/2 on loopback with
//! several connections and many concurrent streams. Every answer is checked;
//! refusals are counted apart from accepted requests.
//!
//! ```sh
//! cargo build --release -p ds-server --bin mimi-ds
//! cargo bench -p ds-server --bench load -- send --members 100 --concurrency 64 --seconds 10
//! cargo bench -p ds-server --bench load -- commit --members 1000 --commits 50
//! cargo bench -p ds-server --bench load -- drain --entries 100000
//! cargo bench -p ds-server --bench load -- federate --members 100 --remote-share 0.5 \
//!     --concurrency 64 --seconds 10 [--rate R] [--batch N]
//! ```
//!
//! `federate` starts two servers instead, `ds-a.example` and
//! `ds-b.example`, with certificates of a CA the bench makes, each trusting
//! it and listing the other as a peer on loopback.
//!
//! Each scenario prints one `load <scenario> key=value ...` line per phase
//! on stdout; progress goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure here is a bug in the bench

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod commit;
mod domains;
mod drain;
mod drive;
mod federate;
mod fedgroup;
mod group;
mod net;
mod observe;
mod pki;
mod push;
mod send;
mod server;
mod stats;
mod ws;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "load", about = "Load generator for mimi-ds")]
struct Cli {
    #[command(subcommand)]
    scenario: Option<Scenario>,
    /// Database of the server (default: SQLite in its temporary data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// HTTP/2 connections the generator opens.
    #[arg(long, global = true, default_value_t = 4)]
    connections: usize,
    /// Worker threads of the generator's runtime.
    #[arg(long, global = true, default_value_t = 2)]
    client_threads: usize,
    /// The server's log filter.
    #[arg(long, global = true, default_value = "info")]
    server_log: String,
    /// Extra server settings, e.g. `MIMI_DS__LIMITS__MAX_CONNECTIONS=100` (repeatable).
    #[arg(long, global = true, value_name = "KEY=VALUE")]
    server_env: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, global = true, hide = true)]
    bench: bool,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Application messages into a group: closed-loop rate, open-loop latency.
    Send(send::SendArgs),
    /// Sequential update commits.
    Commit(commit::CommitArgs),
    /// One client catching up on a backlog through sync pages.
    Drain(drain::DrainArgs),
    /// Send-to-push latency over the live-push WebSocket.
    Push(push::PushArgs),
    /// Messages from one domain's DS to another's members (two servers).
    Federate(federate::FederateArgs),
}

fn main() {
    let cli = Cli::parse();
    let Some(scenario) = cli.scenario else {
        eprintln!(
            "load: no scenario given (send, commit, drain, push, federate); see `--help`. \
             Nothing to do."
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .enable_all()
        .build()
        .expect("runtime");
    if let Scenario::Federate(args) = &scenario {
        federated(
            &runtime,
            &cli.server_log,
            &cli.server_env,
            cli.connections,
            args,
        );
        return;
    }
    let server = server::Server::start(
        cli.database_url.as_deref(),
        &cli.server_log,
        &cli.server_env,
    );
    eprintln!(
        "load: mimi-ds pid {} on {} (data in {})",
        server.pid(),
        server.public,
        server.dir.path().display()
    );
    runtime.block_on(async {
        let pool = net::Pool::connect(server.public, &server.cert, cli.connections).await;
        match &scenario {
            Scenario::Send(args) => send::run(&server, &pool, args).await,
            Scenario::Commit(args) => commit::run(&pool, args).await,
            Scenario::Drain(args) => drain::run(&pool, args).await,
            Scenario::Push(args) => push::run(&server, &pool, args).await,
            Scenario::Federate(_) => unreachable!("started above"),
        }
    });
    drop(runtime);
    drop(server);
}

/// Runs `federate`: two servers, a connection pool to each.
fn federated(
    runtime: &tokio::runtime::Runtime,
    log_filter: &str,
    server_env: &[String],
    connections: usize,
    args: &federate::FederateArgs,
) {
    let mut a_env = server_env.to_vec();
    a_env.extend(args.a_env());
    let domains = domains::Domains::start(&domains::Settings {
        log_filter,
        a_env: &a_env,
        b_env: server_env,
    });
    for (name, server) in [(domains::A, &domains.a), (domains::B, &domains.b)] {
        eprintln!(
            "load: {name}: mimi-ds pid {} on {} (admin {}, data in {})",
            server.pid(),
            server.public,
            server.admin,
            server.dir.path().display()
        );
    }
    runtime.block_on(async {
        let a = net::Pool::connect_to(domains.a.public, &domains.ca, domains::A, connections);
        let b = net::Pool::connect_to(domains.b.public, &domains.ca, domains::B, 1);
        let (a, b) = (a.await, b.await);
        federate::run(&domains, &a, &b, args).await;
    });
}
