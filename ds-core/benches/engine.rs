//! Benchmarks of the owning DS's group engine against a full openmls member.
//!
//! For every group size N (env `DS_BENCH_SIZES`, default `10,100,1000,10000`)
//! one fixture is built with real openmls clients:
//!
//! * the creator creates the group and adds N-1 fresh clients in ONE AddUsers
//!   commit (one Welcome covers all of them);
//! * only one added client ("B") actually joins (through `welcome_info`);
//! * B sends an application message (the DS marks it active) and then makes
//!   an UpdateClient commit (`force_self_update`).
//!
//! Benchmarks per N:
//! * `update_commit/ds_engine/N`: `DsGroup::process` of B's UpdateClient
//!   (ClientSignature, MLS validation, PartialGroupInfo check, merge) on a
//!   freshly restored pre-commit state; the restore is not timed.
//! * `update_commit/full_member/N`: the creator (a full `MlsGroup`) parses,
//!   processes and merges the same commit; its storage is reset (not timed)
//!   before every iteration.
//! * `update_commit/full_member_stage_only/N`: parse + `process_message`
//!   only (validation and staging, no merge).
//! * `state/restore_save/N`: `DsGroup::from_bytes` + `to_bytes` of the
//!   pre-commit state (N-2 added clients still wait for welcome info, so the
//!   DS keeps their epoch's ratchet tree).
//! * `state/restore_save_steady/N`: the same for the state after the commit
//!   once those pending joins expired (no retained epoch tree).
//!
//! And once, at N = 100 (or the smallest size if 100 is not selected):
//! * `decode/send_message`: `DsRequest::decode` of a SendMessage request;
//! * `send_message/ds_engine/N`: `DsGroup::process` of that request.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use common::*;
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode};
use ds_core::group::DsGroup;
use ds_core::wire::*;
use openmls::prelude::{
    KeyPackage, MlsGroup, MlsMessageIn, OpenMlsProvider as _, ProcessedMessageContent,
    ProtocolMessage,
};
use tls_codec::DeserializeBytes as _;

/// Seconds after which pending joins have expired (default retention is 14 days).
const EXPIRED: u64 = 15 * 24 * 3600;

/// Everything the benchmarks of one group size need.
struct Fixture {
    n: usize,
    ds: Ds,
    /// DS state before B's update commit.
    saved: Vec<u8>,
    /// DS state after B's update commit, processed once pending joins expired.
    saved_steady: Vec<u8>,
    /// B's signed UpdateClient request.
    update: DsRequest,
    /// The commit (an MLSMessage) inside `update`.
    commit: Vec<u8>,
    /// The creator, a full member at the pre-commit epoch.
    observer: Client,
    /// The observer's storage at the pre-commit epoch.
    observer_snapshot: HashMap<Vec<u8>, Vec<u8>>,
    /// B's signed SendMessage request and its encoding.
    send: DsRequest,
    send_bytes: Vec<u8>,
    application_message_len: usize,
}

fn sizes() -> Vec<usize> {
    let spec = std::env::var("DS_BENCH_SIZES").unwrap_or_else(|_| "10,100,1000,10000".into());
    let sizes: Vec<usize> = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.replace('_', "")
                .parse()
                .unwrap_or_else(|_| panic!("DS_BENCH_SIZES: bad size {s:?}"))
        })
        .collect();
    assert!(
        sizes.iter().all(|&n| n >= 2),
        "DS_BENCH_SIZES: every size must be at least 2 (creator and joiner)"
    );
    sizes
}

/// Key packages of `count` fresh clients `user{first}..`, generated on all cores.
fn key_packages(first: usize, count: usize) -> Vec<KeyPackage> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(count.max(1));
    let chunk = count.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(count);
                s.spawn(move || {
                    (start..end)
                        .map(|i| {
                            Client::new(&format!("user{}@ds-a.example/dev", first + i))
                                .key_package()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// The application message: a realistic ~200-byte PrivateMessage.
const APP_PAYLOAD: &[u8] = b"Hi all, meeting moved to 3pm; see the updated agenda attached. ok?";

fn build(n: usize) -> Fixture {
    let t0 = Instant::now();
    let ds = Ds::new();
    let mut creator = Client::new("user0@ds-a.example/dev");
    let create = creator.create_group(&ds, "g1", GroupKind::Regular);
    let (mut group, _) = DsGroup::create(&ds.ctx, &create, NOW).unwrap();

    let mut b = Client::new("user1@ds-b.example/dev");
    let mut kps = vec![b.key_package()];
    kps.extend(key_packages(2, n - 2));
    let t_kp = t0.elapsed();

    let t = Instant::now();
    let (update, welcome) = creator.commit_with(|cb| cb.propose_adds(kps));
    let welcome = welcome.unwrap();
    let commit_len = update.commit.as_slice().len();
    let request = creator.signed(DsRequestBody::AddUsers(add_request(
        update,
        vec![welcome.clone()],
    )));
    let t_commit = t.elapsed();
    let t = Instant::now();
    group.process(&ds.ctx, &request, None, NOW).unwrap();
    let t_ds_add = t.elapsed();
    drop(request);
    creator.merge();

    let t = Instant::now();
    let gid = group.group_id().clone();
    b.join(&welcome, &gid, |r| group.process(&ds.ctx, r, None, NOW))
        .unwrap();
    let t_join = t.elapsed();
    assert_eq!(group.roster().len(), n);

    // B is active: an application message (the DS drops B's pending join).
    let message = b.message(APP_PAYLOAD);
    let application_message_len = message.len();
    let send = b.signed(DsRequestBody::SendMessage(SendMessageRequest {
        application_message: Bytes::new(message).unwrap(),
    }));
    let send_bytes = send.encode().unwrap();
    assert!(
        group
            .process(&ds.ctx, &send, None, NOW)
            .unwrap()
            .state_changed
    );

    // B's update commit, not merged by B: the benchmarks apply it.
    let t = Instant::now();
    let (update, _) = b.commit_with(|cb| cb.force_self_update(true));
    let t_update = t.elapsed();
    let commit = update.commit.as_slice().to_vec();
    let update = b.signed(DsRequestBody::UpdateClient(update_request(update)));
    let saved = group.to_bytes().unwrap();

    // Sanity: the DS accepts the commit, and the observer agrees with it.
    let mut after = DsGroup::from_bytes(&saved).unwrap();
    after.process(&ds.ctx, &update, None, NOW).unwrap();
    let mut steady = DsGroup::from_bytes(&saved).unwrap();
    steady
        .process(&ds.ctx, &update, None, NOW + EXPIRED)
        .unwrap();
    assert!(steady.retained_tree_epochs().is_empty());
    let saved_steady = steady.to_bytes().unwrap();

    let observer_snapshot = creator.provider.storage().values.read().unwrap().clone();
    let mut member = MlsGroup::load(creator.provider.storage(), creator.group().group_id())
        .unwrap()
        .unwrap();
    member_process(&creator, &mut member, &commit, true);
    assert_eq!(member.epoch().as_u64(), after.epoch());
    assert_eq!(
        member.public_group().group_context().tree_hash(),
        after.tree_hash()
    );
    restore(&creator, &observer_snapshot);

    eprintln!(
        "fixture N={n}: built in {:.1?} (key packages {t_kp:.1?}, creator's AddUsers commit \
         {t_commit:.1?} [{commit_len} B commit, {} B welcome], DS AddUsers {t_ds_add:.1?}, \
         B joins {t_join:.1?}, B's update commit {t_update:.1?} [{} B]); DS state {} B \
         (steady, no pending joins: {} B)",
        t0.elapsed(),
        welcome.len(),
        commit.len(),
        saved.len(),
        saved_steady.len(),
    );
    Fixture {
        n,
        ds,
        saved,
        saved_steady,
        update,
        commit,
        observer: creator,
        observer_snapshot,
        send,
        send_bytes,
        application_message_len,
    }
}

/// Resets the observer's storage to `snapshot`.
fn restore(observer: &Client, snapshot: &HashMap<Vec<u8>, Vec<u8>>) {
    *observer.provider.storage().values.write().unwrap() = snapshot.clone();
}

/// The observer's pre-commit group, loaded from its restored storage.
fn load_member(observer: &Client, snapshot: &HashMap<Vec<u8>, Vec<u8>>) -> MlsGroup {
    restore(observer, snapshot);
    MlsGroup::load(observer.provider.storage(), observer.group().group_id())
        .unwrap()
        .unwrap()
}

/// What a member does with a fanned-out commit: parse, validate + stage, and
/// (if `merge`) merge.
fn member_process(observer: &Client, member: &mut MlsGroup, commit: &[u8], merge: bool) {
    let message = MlsMessageIn::tls_deserialize_exact_bytes(commit).unwrap();
    let message: ProtocolMessage = message.try_into_protocol_message().unwrap();
    let processed = member.process_message(&observer.provider, message).unwrap();
    let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
        panic!("not a commit");
    };
    if merge {
        member
            .merge_staged_commit(&observer.provider, *staged)
            .unwrap();
    } else {
        black_box(staged);
    }
}

/// Sample size and time per group size: few samples for the large groups.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>, n: usize) {
    if n >= 1_000 {
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(if n >= 10_000 { 20 } else { 8 }));
    } else {
        group
            .sample_size(20)
            .sampling_mode(SamplingMode::Auto)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
    }
}

fn bench_size(c: &mut Criterion, f: &Fixture) {
    let n = f.n;
    let ctx = &f.ds.ctx;

    let mut g = c.benchmark_group("update_commit");
    configure(&mut g, n);
    g.bench_with_input(BenchmarkId::new("ds_engine", n), f, |bench, f| {
        bench.iter_batched_ref(
            || DsGroup::from_bytes(&f.saved).unwrap(),
            |group| group.process(ctx, &f.update, None, NOW).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_with_input(BenchmarkId::new("full_member", n), f, |bench, f| {
        bench.iter_batched_ref(
            || load_member(&f.observer, &f.observer_snapshot),
            |member| member_process(&f.observer, member, &f.commit, true),
            BatchSize::PerIteration,
        )
    });
    g.bench_with_input(
        BenchmarkId::new("full_member_stage_only", n),
        f,
        |bench, f| {
            bench.iter_batched_ref(
                || load_member(&f.observer, &f.observer_snapshot),
                |member| member_process(&f.observer, member, &f.commit, false),
                BatchSize::PerIteration,
            )
        },
    );
    g.finish();

    let mut g = c.benchmark_group("state");
    configure(&mut g, n);
    g.bench_with_input(BenchmarkId::new("restore_save", n), f, |bench, f| {
        bench.iter(|| {
            DsGroup::from_bytes(black_box(&f.saved))
                .unwrap()
                .to_bytes()
                .unwrap()
        })
    });
    g.bench_with_input(BenchmarkId::new("restore_save_steady", n), f, |bench, f| {
        bench.iter(|| {
            DsGroup::from_bytes(black_box(&f.saved_steady))
                .unwrap()
                .to_bytes()
                .unwrap()
        })
    });
    g.finish();
}

fn bench_send_message(c: &mut Criterion, f: &Fixture) {
    eprintln!(
        "send_message fixture N={}: application message {} B, encoded request {} B",
        f.n,
        f.application_message_len,
        f.send_bytes.len()
    );
    let ctx = &f.ds.ctx;
    c.bench_function("decode/send_message", |bench| {
        bench.iter(|| DsRequest::decode(black_box(&f.send_bytes)).unwrap())
    });
    // B is already active, so this leaves the state unchanged: no reset needed.
    let mut group = DsGroup::from_bytes(&f.saved).unwrap();
    let outcome = group.process(ctx, &f.send, None, NOW).unwrap();
    assert!(!outcome.state_changed);
    let mut g = c.benchmark_group("send_message");
    g.bench_function(BenchmarkId::new("ds_engine", f.n), |bench| {
        bench.iter(|| group.process(ctx, black_box(&f.send), None, NOW).unwrap())
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let sizes = sizes();
    let send_size = if sizes.contains(&100) {
        100
    } else {
        sizes.iter().copied().min().unwrap_or(100)
    };
    for &n in &sizes {
        let f = build(n);
        eprintln!(
            "state/N={n}: {} bytes (pre-commit, with pending joins); {} bytes (steady)",
            f.saved.len(),
            f.saved_steady.len()
        );
        bench_size(c, &f);
        if n == send_size {
            bench_send_message(c, &f);
        }
    }
}

criterion::criterion_group!(engine, benches);
criterion::criterion_main!(engine);
