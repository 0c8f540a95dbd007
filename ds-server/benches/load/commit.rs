//! Scenario `commit`: sequential UpdateClient commits (`force_self_update`)
//! by the creator of a group of N members. The commits are generated and
//! merged by the client before the timed phase (each builds on the last), so
//! the timed phase is the server's: validation, state save, log append.
//! With `--groups G`, G groups commit concurrently, each in sequence.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use clap::Args;
use ds_core::wire::DsRequestBody;

use crate::common::update_request;
use crate::drive::send_one;
use crate::group::{self, Group};
use crate::net::Pool;
use crate::stats::{Tally, refusals};

/// Options of `commit`.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Group size.
    #[arg(long, default_value_t = 100)]
    pub members: usize,
    /// Commits per group.
    #[arg(long, default_value_t = 200)]
    pub commits: usize,
    /// Groups committing concurrently.
    #[arg(long, default_value_t = 1)]
    pub groups: usize,
}

/// Runs the scenario and prints its summary line.
pub async fn run(pool: &Pool, args: &CommitArgs) {
    let mut chains = Vec::new();
    for g in 0..args.groups.max(1) {
        let mut group = group::build(pool, &format!("commit{g}"), args.members, 1).await;
        chains.push(Arc::new(generate(&mut group, args.commits)));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (g, chain) in chains.into_iter().enumerate() {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            for body in chain.iter() {
                send_one(&pool, g, body.clone(), Instant::now(), &mut tally).await;
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for task in tasks {
        tally.merge(task.await.expect("commit task"));
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = tally.accepted as f64 / secs;
    let p = tally.percentiles();
    println!(
        "load commit members={} groups={} sent={} accepted={} refused={} failed={} \
         seconds={secs:.2} commits_per_s={rate:.1} {p} refusals={}",
        args.members,
        args.groups.max(1),
        args.commits * args.groups.max(1),
        tally.accepted,
        tally.refused_total(),
        tally.failed,
        refusals(&tally),
    );
}

/// `count` signed UpdateClient requests by the creator, each merged locally
/// so the next one builds on it.
fn generate(group: &mut Group, count: usize) -> Vec<Bytes> {
    let started = Instant::now();
    let creator = &mut group.members[0];
    let mut out = Vec::with_capacity(count);
    let mut size = 0;
    for _ in 0..count {
        let (update, _) = creator.commit_with(|cb| cb.force_self_update(true));
        let request = creator.signed(DsRequestBody::UpdateClient(update_request(update)));
        creator.merge();
        let bytes = request.encode().expect("encode");
        size = bytes.len();
        out.push(Bytes::from(bytes));
    }
    eprintln!(
        "load: generated {count} update commits in {:.1?} ({size} B each)",
        started.elapsed()
    );
    out
}
