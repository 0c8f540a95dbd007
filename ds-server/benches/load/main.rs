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
//! ```
//!
//! Each scenario prints one `load <scenario> key=value ...` line per phase
//! on stdout; progress goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failure here is a bug in the bench

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod commit;
mod drain;
mod drive;
mod group;
mod net;
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
}

fn main() {
    let cli = Cli::parse();
    let Some(scenario) = cli.scenario else {
        eprintln!(
            "load: no scenario given (send, commit, drain, push); see `--help`. Nothing to do."
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .enable_all()
        .build()
        .expect("runtime");
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
        }
    });
    drop(runtime);
    drop(server);
}
