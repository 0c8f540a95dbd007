//! A backlog larger than one request (spec §11.5: at most
//! `federation.fanout_batch_entries` rows per request): A, configured with
//! batches of 7, keeps accepting while B is unreachable, then delivers the
//! backlog in several requests. Every entry reaches B's clients once and in
//! order, and a removal in the middle of the backlog shows that each batch
//! states its recipients afresh (the guest would refuse a batch whose first
//! entry of a group leaves them out).

use ds_core::wire::DsRequestBody;

use crate::common::update_request;
use crate::lifecycle::leaf_of;
use crate::member::Got;
use crate::traffic::{apps, drained, reads, sends};
use crate::tune::{Tuning, tune};
use crate::world::{A, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const BOB: &str = "bob@ds-b.test/phone";
const DAVE: &str = "dave@ds-b.test/laptop";

const BATCH: usize = 7;
const DESTINATION: &str = "destination=\"ds-b.test\"";
const OK: &str = "result=\"ok\"";

/// Messages `m{from}`..`m{to}`.
fn texts(from: usize, to: usize) -> Vec<Vec<u8>> {
    (from..=to).map(|i| format!("m{i}").into_bytes()).collect()
}

fn refs(texts: &[Vec<u8>]) -> Vec<&[u8]> {
    texts.iter().map(Vec::as_slice).collect()
}

/// Batches B acknowledged and entries in them, as A counts them.
async fn acknowledged(w: &World) -> (f64, f64) {
    let batches =
        w.a.counter("mimi_ds_fanout_batches_total", &[DESTINATION, OK]);
    let entries =
        w.a.counter("mimi_ds_fanout_sent_entries_total", &[DESTINATION]);
    (batches.await, entries.await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_goes_out_in_several_batches_once_and_in_order() {
    let mut w = World::start().await;
    w.stop(A);
    let tuning = Tuning {
        fanout_batch_entries: Some(BATCH),
        ..Tuning::default()
    };
    tune(&w.a, &tuning);
    w.restart(A);
    w.enrol(&[ALICE, BOB, DAVE]).await;
    w.create_group(ALICE).await;
    w.add(ALICE, &[BOB, DAVE]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.say(ALICE, b"before", &[BOB, DAVE]).await;
    drained(&w.a).await;
    let (batches_before, entries_before) = acknowledged(&w).await;

    // B unreachable: ten messages, dave's removal, ten more.
    w.to_b.set_open(false);
    let (first, second) = (texts(1, 10), texts(11, 20));
    sends(&mut w, ALICE, &refs(&first)).await;
    let dave = leaf_of(&mut w, ALICE, DAVE);
    let (update, _) = w
        .member(ALICE)
        .client
        .commit_with(|cb| cb.propose_removals([dave]));
    let commit = update.commit.as_slice().to_vec();
    let request = w
        .member(ALICE)
        .signed(DsRequestBody::RemoveUsers(update_request(update)), &commit);
    let removed = w.accepted(ALICE, &request, true).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    sends(&mut w, ALICE, &refs(&second)).await;
    let owed = w.seq - 2;
    assert_eq!(owed, 21);
    assert_eq!(
        w.a.outbox_depth().await,
        owed,
        "one outbox row per entry for B"
    );

    // B is back: everything arrives.
    w.to_b.set_open(true);
    let gid = w.gid().as_str().to_owned();
    let mut bob = apps(&refs(&first));
    bob.push(Got::Commit);
    bob.extend(apps(&refs(&second)));
    let seq = w.seq;
    reads(&mut w, BOB, &gid, seq, &bob, 2..=seq).await;
    let mut dave = apps(&refs(&first));
    dave.push(Got::Commit);
    reads(&mut w, DAVE, &gid, removed, &dave, 2..=removed).await;
    assert!(!w.member(DAVE).in_group(), "dave saw his removal");
    drained(&w.a).await;

    // In several requests, none larger than the configured batch.
    let (batches_after, entries_after) = acknowledged(&w).await;
    let (batches, entries) = (
        batches_after - batches_before,
        entries_after - entries_before,
    );
    let least = owed.div_ceil(BATCH as u64) as f64;
    assert!(
        batches >= least,
        "{batches} batches acknowledged for {owed} entries"
    );
    assert!(
        entries >= owed as f64,
        "{entries} entries acknowledged of {owed}"
    );
    assert!(
        entries <= batches * BATCH as f64,
        "{entries} entries in {batches} batches of at most {BATCH}"
    );

    // The link is back to normal.
    w.say(ALICE, b"after", &[BOB]).await;
}
