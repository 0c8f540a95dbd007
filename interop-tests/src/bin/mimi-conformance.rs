//! `mimi-conformance`: runs the conformance suite against two running DS
//! deployments and prints a pass/fail table and a summary line.
//!
//! ```text
//! mimi-conformance --ds-a https://ds-a.example:8443 --ds-b https://ds-b.example:8444 \
//!     --ca deploy/compose/certs/ca.pem \
//!     --connect ds-a.example=127.0.0.1:8443 --connect ds-b.example=127.0.0.1:8444 \
//!     --cut-b '…' --heal-b '…' --restart-b '…'
//! ```
//!
//! Exit status: 0 when nothing failed (and, with `--require-all`, nothing
//! was skipped), 1 otherwise, 2 for bad arguments.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use ds_client_sdk::Domain;
use ds_federation::DsKeyring;
use interop_tests::{
    Commands, Deployment, PeerSigner, RunOptions, Target, all, parse_ds_url, run,
    wait_until_serving,
};

#[derive(Debug, Parser)]
#[command(
    name = "mimi-conformance",
    version,
    about = "Checks two federated MIMI DS deployments against the protocol"
)]
struct Args {
    /// Domain A's DS, `https://DOMAIN[:PORT]` (the host is the domain).
    #[arg(long, value_name = "URL")]
    ds_a: Option<String>,
    /// Domain B's DS, `https://DOMAIN[:PORT]`.
    #[arg(long, value_name = "URL")]
    ds_b: Option<String>,
    /// PEM file of a CA the DS certificates chain to (repeatable; none:
    /// the system's roots).
    #[arg(long, value_name = "FILE")]
    ca: Vec<PathBuf>,
    /// Dial DOMAIN at HOST:PORT instead of the URL's address (repeatable).
    #[arg(long, value_name = "DOMAIN=HOST:PORT")]
    connect: Vec<String>,
    /// A one-time registration token of DOMAIN, for DSs under the `token`
    /// registration policy (repeatable; one is used per client registered).
    #[arg(long, value_name = "DOMAIN=TOKEN")]
    token: Vec<String>,
    /// DOMAIN=DIR: the signing keys (a mimi-ds `ds-keys` directory) of a
    /// third domain that B federates with; enables the SEC-PEER- scenarios,
    /// which send fan-outs signed as that domain.
    #[arg(long, value_name = "DOMAIN=DIR")]
    peer_key: Option<String>,
    /// Shell command that cuts B off the network.
    #[arg(long, value_name = "COMMAND")]
    cut_b: Option<String>,
    /// Shell command that reconnects B.
    #[arg(long, value_name = "COMMAND")]
    heal_b: Option<String>,
    /// Shell command that restarts B (returning once it serves again).
    #[arg(long, value_name = "COMMAND")]
    restart_b: Option<String>,
    /// Run only scenarios whose id starts with this (repeatable).
    #[arg(long, value_name = "PREFIX")]
    only: Vec<String>,
    /// Undisruptive scenarios run at once.
    #[arg(long, default_value_t = 4)]
    parallel: usize,
    /// Longest a scenario may take, in seconds.
    #[arg(long, default_value_t = 180)]
    time_limit: u64,
    /// Seconds to wait for both DSs to answer before the first scenario
    /// (a deployment that was just started).
    #[arg(long, default_value_t = 60)]
    wait: u64,
    /// Fail when a scenario was skipped (a disruption command missing).
    #[arg(long)]
    require_all: bool,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for scenario in all() {
            println!("{:<28} {}", scenario.id, scenario.statement);
        }
        return ExitCode::SUCCESS;
    }
    let target = match target(&args) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("mimi-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mimi-conformance: no async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = RunOptions {
        only: args.only.clone(),
        parallel: args.parallel,
        time_limit: Duration::from_secs(args.time_limit),
    };
    println!(
        "mimi-conformance: {} ({}) and {} ({})",
        target.a.domain, target.a.address, target.b.domain, target.b.address
    );
    if let Err(e) = runtime.block_on(wait_until_serving(&target, Duration::from_secs(args.wait))) {
        eprintln!("mimi-conformance: {e}");
        return ExitCode::FAILURE;
    }
    let report = runtime.block_on(run(target, &all(), &options));
    print!("{}", report.table());
    println!("{}", report.summary());
    if report.failed() > 0 || (args.require_all && report.skipped() > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn target(args: &Args) -> Result<Target, String> {
    let need = |url: &Option<String>, option: &str| {
        url.as_deref()
            .ok_or_else(|| format!("{option} URL is required"))
            .and_then(parse_ds_url)
    };
    let (a_domain, mut a_address) = need(&args.ds_a, "--ds-a")?;
    let (b_domain, mut b_address) = need(&args.ds_b, "--ds-b")?;
    if a_domain == b_domain {
        return Err(format!("--ds-a and --ds-b are both {a_domain}"));
    }
    for pair in &args.connect {
        let (domain, address) = split_pair(pair, "--connect")?;
        if domain == a_domain {
            a_address = address;
        } else if domain == b_domain {
            b_address = address;
        } else {
            return Err(format!(
                "--connect {pair}: {domain} is neither --ds-a nor --ds-b"
            ));
        }
    }
    for file in &args.ca {
        if !file.is_file() {
            return Err(format!("--ca {}: no such file", file.display()));
        }
    }
    let mut tokens: BTreeMap<Domain, VecDeque<String>> = BTreeMap::new();
    for pair in &args.token {
        let (domain, token) = split_pair(pair, "--token")?;
        tokens.entry(domain).or_default().push_back(token);
    }
    let peer = args.peer_key.as_deref().map(peer_signer).transpose()?;
    if let Some(peer) = &peer
        && (peer.domain == a_domain || peer.domain == b_domain)
    {
        return Err(format!(
            "--peer-key: {} must be a third domain",
            peer.domain
        ));
    }
    Ok(Target {
        a: Deployment {
            domain: a_domain,
            address: a_address,
        },
        b: Deployment {
            domain: b_domain,
            address: b_address,
        },
        trust_roots: args.ca.clone(),
        tokens: Arc::new(Mutex::new(tokens)),
        operator: Arc::new(Commands {
            cut_b: args.cut_b.clone(),
            heal_b: args.heal_b.clone(),
            restart_b: args.restart_b.clone(),
        }),
        peer,
    })
}

/// `DOMAIN=VALUE`.
fn split_pair(pair: &str, option: &str) -> Result<(Domain, String), String> {
    let (domain, value) = pair
        .split_once('=')
        .ok_or_else(|| format!("{option} {pair}: expected DOMAIN=VALUE"))?;
    let domain = Domain::new(domain).map_err(|e| format!("{option} {pair}: {e}"))?;
    if value.is_empty() {
        return Err(format!("{option} {pair}: empty value"));
    }
    Ok((domain, value.to_owned()))
}

/// `DOMAIN=DIR`: the current key of the mimi-ds keyring in DIR.
fn peer_signer(pair: &str) -> Result<PeerSigner, String> {
    let (domain, dir) = split_pair(pair, "--peer-key")?;
    let dir = PathBuf::from(dir);
    let has_keys = std::fs::read_dir(&dir)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(false);
    if !has_keys {
        return Err(format!("--peer-key {pair}: no keys in {}", dir.display()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let keyring = DsKeyring::load_or_create(&dir, None, now)
        .map_err(|e| format!("--peer-key {pair}: {e}"))?;
    Ok(PeerSigner {
        domain,
        key: keyring.current(),
    })
}
