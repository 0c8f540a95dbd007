//! Scenario `federate`: application messages into a group owned by
//! `ds-a.example` with a share of its members at `ds-b.example`; two real
//! `mimi-ds` processes federate over verified HTTPS on loopback.
//!
//! Closed loop (no `--rate`): A's members send with C requests in flight;
//! the line reports the rate A accepts, the rate entries reach B while
//! sending (B's `mimi_ds_fanout_entries_total{outcome="applied"}`), the time
//! B needs after the last send until every accepted message is stored there
//! (the drain), and the sustained cross-domain rate: accepted messages over
//! send time plus drain time. Open loop (`--rate R`): latency from the
//! scheduled send at A to the push frame at a B member's WebSocket on B.
//! Each phase also reports the CPU split between A, B and this generator.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;

use crate::domains::{A, B, Domains};
use crate::drive::{Phase, Starts, closed_loop, open_loop};
use crate::fedgroup::{self, FedGroup};
use crate::net::Pool;
use crate::observe::{self, APPLIED, BATCHES, FAILURES, SENT};
use crate::push::{self, message_index};
use crate::send::generate;
use crate::server::cpu_time;
use crate::stats::{ms, refusals};

/// Options of `federate`.
#[derive(Debug, Args)]
pub struct FederateArgs {
    /// Group size (both domains).
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Share of the members that are clients of ds-b.example.
    #[arg(long, default_value_t = 0.5)]
    pub remote_share: f64,
    /// Requests in flight in the closed loop.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Length of the sending phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Messages generated for the closed loop (it ends early when they run out).
    #[arg(long, default_value_t = 150_000)]
    pub messages: usize,
    /// Open loop at this many messages/s instead of the closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// The owning DS's `federation.fanout_batch_entries` (default: its own, 500).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Members of ds-a.example that send (the creator and joined members).
    #[arg(long, default_value_t = 2)]
    pub senders: usize,
    /// Longest wait for B to catch up after the sending phase.
    #[arg(long, default_value_t = 300.0)]
    pub drain_limit: f64,
}

impl FederateArgs {
    /// The owning DS's extra settings.
    pub fn a_env(&self) -> Vec<String> {
        self.batch
            .map(|n| format!("MIMI_DS__FEDERATION__FANOUT_BATCH_ENTRIES={n}"))
            .into_iter()
            .collect()
    }
}

/// CPU time so far of A, B and the generator.
#[derive(Clone, Copy)]
struct Cpu {
    at: Instant,
    a: Duration,
    b: Duration,
    gen_: Duration,
}

impl Cpu {
    fn now(d: &Domains) -> Cpu {
        let zero = Duration::ZERO;
        Cpu {
            at: Instant::now(),
            a: d.a.cpu_time().unwrap_or(zero),
            b: d.b.cpu_time().unwrap_or(zero),
            gen_: cpu_time("/proc/self/stat").unwrap_or(zero),
        }
    }

    /// `a=..% b=..% gen=..%` of one core since `self` (200 % = both cores).
    fn split_since(self, d: &Domains, tag: &str) -> String {
        let now = Cpu::now(d);
        let wall = now.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let pct = |after: Duration, before: Duration| (after - before).as_secs_f64() * 100.0 / wall;
        format!(
            "cpu_{tag}_a_pct={:.0} cpu_{tag}_b_pct={:.0} cpu_{tag}_gen_pct={:.0}",
            pct(now.a, self.a),
            pct(now.b, self.b),
            pct(now.gen_, self.gen_),
        )
    }
}

/// Runs the scenario and prints its summary line.
pub async fn run(domains: &Domains, a: &Pool, b: &Pool, args: &FederateArgs) {
    let remote = ((args.members as f64 * args.remote_share).round() as usize)
        .clamp(1, args.members.saturating_sub(1));
    let mut fed = fedgroup::build(a, b, "fed", args.members, remote, args.senders).await;
    if !fedgroup::welcome_arrives(b, &fed.listener, Duration::from_secs(30)).await {
        fail(
            domains,
            "the Welcome of the add commit did not reach B's inbox",
        )
        .await;
    }
    eprintln!("load: the Welcome reached {B}");

    // Warm-up (untimed): connections, group caches, the joined members'
    // first messages, the first fan-outs and B's cache of A's keys.
    let warm = generate(&mut fed.group, 2_000);
    let phase = closed_loop(a, Arc::new(warm), args.concurrency, Duration::from_secs(60)).await;
    let base = observe::counter(domains.b.admin, APPLIED).await - phase.tally.accepted as f64;
    wait_applied(domains, base, phase.tally.accepted, Duration::from_secs(60)).await;
    eprintln!(
        "load: warm-up of {} messages delivered to {B}",
        phase.tally.accepted
    );

    match args.rate {
        None => closed(domains, a, b, &mut fed, args).await,
        Some(rate) => open(domains, a, &mut fed, args, rate).await,
    }
}

/// Waits until B has applied `count` entries more than `base`; returns how
/// long that took, or reports where delivery stands and panics at `limit`.
async fn wait_applied(domains: &Domains, base: f64, count: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let applied = observe::counter(domains.b.admin, APPLIED).await - base;
        if applied >= count as f64 {
            return started.elapsed();
        }
        if started.elapsed() > limit {
            let what = format!("{B} applied {applied} of {count} entries within {limit:?}");
            fail(domains, &what).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Prints what both servers say about federation, then panics with `what`.
async fn fail(domains: &Domains, what: &str) -> ! {
    eprintln!("load: FAILED: {what}");
    eprintln!(
        "load: {A} outbox_depth={}",
        observe::outbox_depth(domains.a.admin).await
    );
    for (name, server) in [(A, &domains.a), (B, &domains.b)] {
        let text = observe::metrics(server.admin).await;
        for line in text
            .lines()
            .filter(|l| l.contains("fanout") || l.contains("outbox"))
        {
            if !line.starts_with('#') {
                eprintln!("load: {name} metric {line}");
            }
        }
        let log = std::fs::read_to_string(server.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        eprintln!("load: last lines of {name}'s log:");
        for line in &lines[lines.len().saturating_sub(20)..] {
            eprintln!("  {line}");
        }
    }
    panic!("{what}");
}

/// The closed loop and the drain after it.
async fn closed(domains: &Domains, a: &Pool, b: &Pool, fed: &mut FedGroup, args: &FederateArgs) {
    let requests = generate(&mut fed.group, args.messages);
    let (a_before, b_before) = (
        observe::metrics(domains.a.admin).await,
        observe::counter(domains.b.admin, APPLIED).await,
    );
    let cpu = Cpu::now(domains);
    let limit = Duration::from_secs_f64(args.seconds);
    let mut phase = closed_loop(a, Arc::new(requests), args.concurrency, limit).await;
    let send_cpu = cpu.split_since(domains, "send");
    let send_secs = phase.elapsed.as_secs_f64();
    let during = observe::counter(domains.b.admin, APPLIED).await - b_before;
    let backlog = observe::outbox_depth(domains.a.admin).await;
    let cpu = Cpu::now(domains);
    let accepted = phase.tally.accepted;
    let limit = Duration::from_secs_f64(args.drain_limit);
    let drain = wait_applied(domains, b_before, accepted, limit).await;
    let drain_cpu = cpu.split_since(domains, "drain");
    let left = observe::outbox_depth(domains.a.admin).await;
    let a_after = observe::metrics(domains.a.admin).await;
    let replica = fedgroup::read_replica(b, &fed.listener, &fed.group.id).await;
    let p = phase.tally.percentiles();
    let total = send_secs + drain.as_secs_f64();
    println!(
        "load federate members={} remote={} batch={} mode=closed concurrency={} sent={} \
         accepted={} refused={} failed={} send_s={send_secs:.2} accepted_per_s={:.0} \
         delivered_while_sending_per_s={:.0} outbox_after_send={backlog} drain_s={:.2} \
         sustained_per_s={:.0} outbox_after_drain={left} {} accept_{p} {send_cpu} {drain_cpu} \
         b_replica_entries={} b_replica_gaps={} refusals={}",
        args.members,
        fed.remote,
        batch_name(args),
        args.concurrency,
        phase.sent,
        accepted,
        phase.tally.refused_total(),
        phase.tally.failed,
        accepted as f64 / send_secs,
        during / send_secs,
        drain.as_secs_f64(),
        accepted as f64 / total,
        batches(&a_before, &a_after),
        replica.entries,
        replica.gaps,
        refusals(&phase.tally),
    );
}

/// `batches=.. entries_per_batch=.. batch_ms=.. fanout_failures=..` of
/// the owning DS between two `/metrics` texts.
fn batches(before: &str, after: &str) -> String {
    let delta = |which| observe::sample(which, after) - observe::sample(which, before);
    let (sum0, count0) = observe::histogram("mimi_ds_fanout_batch_seconds", before);
    let (sum1, count1) = observe::histogram("mimi_ds_fanout_batch_seconds", after);
    let batches = delta(BATCHES);
    let per_batch = |x: f64| if batches > 0.0 { x / batches } else { 0.0 };
    let mean_ms = if count1 > count0 {
        (sum1 - sum0) * 1e3 / (count1 - count0)
    } else {
        0.0
    };
    format!(
        "batches={batches:.0} entries_per_batch={:.1} batch_ms={mean_ms:.2} fanout_failures={:.0}",
        per_batch(delta(SENT)),
        delta(FAILURES),
    )
}

fn batch_name(args: &FederateArgs) -> String {
    args.batch.map_or("default".into(), |n| n.to_string())
}

/// The open loop: latency from the scheduled send at A to the push at B.
async fn open(domains: &Domains, a: &Pool, fed: &mut FedGroup, args: &FederateArgs, rate: f64) {
    let count = (rate * args.seconds).ceil() as usize;
    let requests = generate(&mut fed.group, count);
    let index = message_index(&requests);
    let mut socket = crate::ws::connect_to(domains.b.public, &domains.ca, B, "/mimi/v1/push").await;
    push::subscribe(&mut socket, &fed.listener).await;
    let sent_at: Starts = Arc::new(Mutex::new(vec![None; count]));
    let receiver = tokio::spawn(push::receive(socket, index, Arc::clone(&sent_at), count));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let a_before = observe::metrics(domains.a.admin).await;
    let cpu = Cpu::now(domains);
    let mut phase: Phase = open_loop(a, requests, rate, Some(sent_at)).await;
    let mut pushed = receiver.await.expect("push receiver");
    let cpu = cpu.split_since(domains, "open");
    let a_after = observe::metrics(domains.a.admin).await;
    let e2e: Vec<f64> = [0.5, 0.9, 0.99, 1.0]
        .into_iter()
        .map(|q| ms(pushed.quantile(q)))
        .collect();
    let accept_p99 = ms(phase.tally.quantile(0.99));
    println!(
        "load federate members={} remote={} batch={} mode=open target_rate={rate:.0} sent={} \
         accepted={} refused={} pushed_at_b={} e2e_p50_ms={:.2} e2e_p90_ms={:.2} \
         e2e_p99_ms={:.2} e2e_max_ms={:.2} accept_p99_ms={accept_p99:.2} {} {cpu}",
        args.members,
        fed.remote,
        batch_name(args),
        phase.sent,
        phase.tally.accepted,
        phase.tally.refused_total(),
        pushed.accepted,
        e2e[0],
        e2e[1],
        e2e[2],
        e2e[3],
        batches(&a_before, &a_after),
    );
}
