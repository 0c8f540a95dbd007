//! Scenario `send`: application messages into a group of N members.
//! Real openmls PrivateMessages with a ClientSignature are generated before
//! the timed phases, so the generator's crypto does not compete with the
//! server; then a closed-loop phase measures the maximum accepted rate and
//! an open-loop phase measures latency at a fixed rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use ds_core::wire::{Bytes as WireBytes, DsRequestBody, SendMessageRequest};

use crate::common::Client;
use crate::drive::{Phase, closed_loop, open_loop};
use crate::group::{self, Group};
use crate::net::Pool;
use crate::server::{Server, cpu_time};
use crate::stats::refusals;

/// A realistic short chat message (the PrivateMessage is about 210 bytes).
const PAYLOAD: &[u8] = b"Hi all, meeting moved to 3pm; see the updated agenda attached. ok?";

/// Options of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Group size.
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Requests in flight in the closed-loop phase.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Length of the closed-loop phase (it also ends when the messages run out).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Messages generated for the closed-loop phase.
    #[arg(long, default_value_t = 150_000)]
    pub messages: usize,
    /// Rate of the open-loop phase, messages/s (default: half the closed-loop rate; 0 skips it).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Length of the open-loop phase.
    #[arg(long, default_value_t = 10.0)]
    pub open_seconds: f64,
    /// Members that send (the creator and members who joined), at least 1.
    #[arg(long, default_value_t = 2)]
    pub senders: usize,
}

/// Runs the scenario and prints its summary lines.
pub async fn run(server: &Server, pool: &Pool, args: &SendArgs) {
    let n = args.members;
    let mut group = group::build(pool, "send", n, args.senders).await;

    // Warm-up (untimed): connections, the group cache, the first message of
    // each joined member (which changes the group state once).
    let warm = generate(&mut group, 2_000);
    let _ = closed_loop(
        pool,
        Arc::new(warm),
        args.concurrency,
        Duration::from_secs(30),
    )
    .await;

    let requests = generate(&mut group, args.messages);
    let cpu = cpu_mark(server);
    let closed = closed_loop(
        pool,
        Arc::new(requests),
        args.concurrency,
        Duration::from_secs_f64(args.seconds),
    )
    .await;
    let cpu = cpu_per_message(server, cpu, &closed);
    let mode = format!("closed concurrency={}", args.concurrency);
    let rate = report(n, &mode, closed, cpu);

    let open_rate = args.rate.unwrap_or(rate / 2.0);
    if open_rate > 0.0 {
        let count = (open_rate * args.open_seconds).ceil() as usize;
        let requests = generate(&mut group, count);
        let cpu = cpu_mark(server);
        let open = open_loop(pool, requests, open_rate, None).await;
        let cpu = cpu_per_message(server, cpu, &open);
        report(n, &format!("open target_rate={open_rate:.0}"), open, cpu);
    }
}

/// CPU time of the server and of this generator, for the per-message cost.
type CpuMark = (Option<Duration>, Option<Duration>);

fn cpu_mark(server: &Server) -> CpuMark {
    (server.cpu_time(), cpu_time("/proc/self/stat"))
}

/// Server and generator CPU time per answered request since `before`, in µs
/// (0 if unknown).
fn cpu_per_message(server: &Server, before: CpuMark, phase: &Phase) -> (f64, f64) {
    let after = cpu_mark(server);
    let per = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
        (Some(b), Some(a)) if phase.sent > 0 => (a - b).as_secs_f64() * 1e6 / phase.sent as f64,
        _ => 0.0,
    };
    (per(before.0, after.0), per(before.1, after.1))
}

/// Prints one summary line and returns the accepted rate.
fn report(members: usize, mode: &str, mut phase: Phase, cpu_us: (f64, f64)) -> f64 {
    let secs = phase.elapsed.as_secs_f64();
    let rate = phase.tally.accepted as f64 / secs;
    let p = phase.tally.percentiles();
    println!(
        "load send members={members} mode={mode} sent={} accepted={} refused={} failed={} \
         seconds={secs:.2} accepted_per_s={rate:.0} {p} server_cpu_us_per_msg={:.0} client_cpu_us_per_msg={:.0} \
         refusals={}",
        phase.sent,
        phase.tally.accepted,
        phase.tally.refused_total(),
        phase.tally.failed,
        cpu_us.0,
        cpu_us.1,
        refusals(&phase.tally),
    );
    rate
}

/// `count` encoded SendMessage requests, spread round-robin over the
/// group's active members, each member generating on its own thread.
pub fn generate(group: &mut Group, count: usize) -> Vec<Bytes> {
    let started = Instant::now();
    let senders = group.members.len();
    let per = count.div_ceil(senders);
    let batches: Vec<Vec<Bytes>> = std::thread::scope(|s| {
        let handles: Vec<_> = group
            .members
            .iter_mut()
            .map(|member| s.spawn(move || (0..per).map(|_| message(member)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread"))
            .collect()
    });
    let mut iters: Vec<_> = batches.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        for it in &mut iters {
            if let Some(m) = it.next() {
                out.push(m);
            }
        }
    }
    out.truncate(count);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "load: generated {count} messages in {secs:.1} s ({:.0}/s, {} B each)",
        count as f64 / secs,
        out.first().map_or(0, Bytes::len)
    );
    out
}

/// One signed SendMessage request from `member`, encoded.
fn message(member: &mut Client) -> Bytes {
    let text = member.message(PAYLOAD);
    let request = member.signed(DsRequestBody::SendMessage(SendMessageRequest {
        application_message: WireBytes::new(text).expect("message size"),
    }));
    Bytes::from(request.encode().expect("encode"))
}
