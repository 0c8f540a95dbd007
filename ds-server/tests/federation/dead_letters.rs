//! Refused fan-out entries (spec §11.5) and the guest's check of its
//! recipients (§11.2 check 8).
//!
//! A guest client deleted by its home DS while it is still a member of a
//! group of the owning DS is not a refusal any more: the guest leaves it
//! out of the entries it stores (and counts it), so its group mates keep
//! getting every entry and the owner dead-letters nothing.
//!
//! An entry the guest already holds with other bytes is refused
//! (`ConflictingEntry`): the owner sends the refused batch one row at a
//! time, delivers what the guest takes (another group's entries that met the
//! refused one in one batch) and moves the row refused on its own to its
//! dead letters, so its outbox drains and the destination's other traffic
//! goes on. The conflicting entry here is forged with A's own keys and
//! posted to B before A sends the real one: B cannot tell it from A's.

use std::process::Command;

use http::{Method, StatusCode};

use ds_core::wire::{DsErrorCode, DsFanoutResponseBody, QsResponseBody, QueuePositions};

use crate::common::Received;
use crate::forge::{self, entry, mls_messages, request, signed};
use crate::member::{Got, Member, Queue};
use crate::poll::Wait;
use crate::qs;
use crate::traffic::{apps, drained, reads, sends};
use crate::world::{A, B, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const BOB: &str = "bob@ds-b.test/phone";
const DAVE: &str = "dave@ds-b.test/laptop";
const ERIN: &str = "erin@ds-b.test/phone";
/// Carol (A) and fred (B) share another group of A.
const CAROL: &str = "carol@ds-a.test/phone";
const FRED: &str = "fred@ds-b.test/phone";

const DESTINATION: &str = "destination=\"ds-b.test\"";
const NOT_LOCAL: &str = "reason=\"NotLocalRecipient\"";
const CONFLICTING: &str = "reason=\"ConflictingEntry\"";

/// Alice's group with `guests` (all of B); one message went through to all
/// of them.
async fn alices_group(w: &mut World, guests: &[&str]) {
    w.create_group(ALICE).await;
    w.seq = 0;
    w.add(ALICE, guests).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.say(ALICE, b"before", guests).await;
}

/// Carol's group with fred; returns its id and last sequence number.
async fn carols_group(w: &mut World) -> (String, u64) {
    let gid = w.create_group(CAROL).await;
    w.add(CAROL, &[FRED]).await;
    w.all_get(&[CAROL], &[Got::Own]).await;
    (gid.as_str().to_owned(), w.seq)
}

/// B's operator deletes erin with `mimi-ds admin delete-client`. B owns
/// none of her groups, so it proposes no removal anywhere.
fn b_deletes_erin(w: &World) {
    let output = Command::new(env!("CARGO_BIN_EXE_mimi-ds"))
        .args([
            "admin",
            "--admin",
            &format!("http://{}", w.b.admin),
            "delete-client",
            ERIN,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "delete-client: {output:?}");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let deleted = &answer["deleted"][0];
    assert_eq!(deleted["client_id"], ERIN, "{answer}");
    assert_eq!(
        deleted["removal_proposed_in"],
        serde_json::json!([]),
        "{answer}"
    );
}

/// Counter `name` of `node` without labels (the sum of its samples if it
/// has some), 0 when absent.
async fn counter_total(w: &World, domain: &str, name: &str) -> f64 {
    w.node(domain)
        .metrics()
        .await
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A's dead letters as its admin status shows them.
async fn dead_letters(w: &World) -> u64 {
    let status = w.a.status().await;
    status["dead_letters"]
        .as_u64()
        .unwrap_or_else(|| panic!("no dead_letters in {status}"))
}

/// Waits until A has moved `count` fan-outs to its dead letters and has
/// nothing else left for B.
async fn a_settles(w: &World, count: u64) {
    let wait = Wait::new(format!("A to dead-letter {count} fan-outs and drain"));
    loop {
        let status = w.a.status().await;
        let dead = status["dead_letters"].as_u64().unwrap();
        assert!(dead <= count, "A dead-lettered more than {count}: {status}");
        if dead == count && status["outbox_depth"] == 0 {
            return;
        }
        wait.step().await;
    }
}

/// Carol sends `texts` in her group, whose last entry is `*seq`.
async fn carol_sends(w: &mut World, seq: &mut u64, texts: &[&[u8]]) {
    std::mem::swap(&mut w.seq, seq);
    sends(w, CAROL, texts).await;
    std::mem::swap(&mut w.seq, seq);
}

/// Bob's whole queue on B, read with the queue helper (his openmls client
/// would choke on a forged entry).
async fn bobs_queue(w: &mut World) -> Queue {
    let home = w.home(BOB);
    w.member(BOB).queue(&home).await
}

/// Waits until bob's queue on B holds entry `seq` of `group`; returns it.
async fn bobs_queue_through(w: &mut World, group: &str, seq: u64) -> Queue {
    let wait = Wait::new(format!("B to store entry {seq} of {group} for bob"));
    loop {
        let queue = bobs_queue(w).await;
        if queue.group(group).iter().any(|(n, _)| *n >= seq) {
            return queue;
        }
        wait.step().await;
    }
}

/// What alice's log on A holds for the entries `numbers`.
fn alices_entries(w: &mut World, numbers: std::ops::RangeInclusive<u64>) -> Vec<(u64, Vec<u8>)> {
    let log = w.member(ALICE).log.clone();
    numbers
        .map(|n| {
            log.iter()
                .find(|(seq, _)| *seq == n)
                .cloned()
                .unwrap_or_else(|| panic!("alice has not read entry {n}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_guest_clients_group_mates_still_get_every_message() {
    let mut w = World::start().await;
    w.enrol(&[ALICE, BOB, DAVE, ERIN]).await;
    alices_group(&mut w, &[BOB, DAVE, ERIN]).await;
    drained(&w.a).await;
    let unknown_before = counter_total(&w, B, "mimi_ds_fanout_unknown_recipients_total").await;

    b_deletes_erin(&w);
    // Erin is no client of B any more: her queue is gone.
    let home = w.home(ERIN);
    let sync = w
        .member(ERIN)
        .qs_signed(qs::sync_body(&QueuePositions::default(), 0));
    let answer = home.qs(&sync).await;
    assert!(
        matches!(&answer, QsResponseBody::Error(e) if e.code == DsErrorCode::UnknownClient),
        "erin's sync after her deletion answered {answer:?}"
    );

    // Every entry still names erin (A does not know she is gone).
    let texts: [&[u8]; 3] = [b"one", b"two", b"three"];
    sends(&mut w, ALICE, &texts).await;
    let (gid, seq) = (w.gid().as_str().to_owned(), w.seq);
    for id in [BOB, DAVE] {
        reads(&mut w, id, &gid, seq, &apps(&texts), 2..=seq).await;
    }
    drained(&w.a).await;

    // A had nothing refused, so nothing dead-lettered.
    assert_eq!(dead_letters(&w).await, 0, "A's dead letters");
    let dropped = w.a.counter("mimi_ds_fanout_dropped_total", &[DESTINATION]);
    assert_eq!(dropped.await, 0.0, "A's dropped counter");
    let refused =
        w.a.counter("mimi_ds_fanout_failures_total", &[DESTINATION, NOT_LOCAL]);
    assert_eq!(refused.await, 0.0, "B refused A's fan-out");
    // B left erin out, and counted it.
    let unknown = counter_total(&w, B, "mimi_ds_fanout_unknown_recipients_total").await;
    assert!(
        unknown > unknown_before,
        "B's unknown recipients counter: {unknown_before} before, {unknown} after"
    );

    // Nothing of the group was kept for her: a client registered again
    // under her id finds an empty queue.
    let again = Member::new(ERIN);
    again.register(&home).await;
    assert_eq!(
        again.queue(&home).await,
        Queue::default(),
        "B kept something for erin"
    );
    // And the group goes on.
    w.say(ALICE, b"after", &[BOB, DAVE]).await;
    drained(&w.a).await;
    assert_eq!(dead_letters(&w).await, 0, "A's dead letters at the end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_entry_is_dead_lettered_without_holding_up_the_guest() {
    let mut w = World::start().await;
    w.enrol(&[CAROL, FRED, ALICE, BOB]).await;
    // Carol's group first (the world then follows alice's).
    let (other, mut other_seq) = carols_group(&mut w).await;
    alices_group(&mut w, &[BOB]).await;
    drained(&w.a).await;
    let gid = w.gid().as_str().to_owned();
    let next = w.seq + 1;

    // Entry `next` of alice's group, forged with A's keys, reaches B first.
    let a_key = forge::keyring(&w.a).current();
    let forged = mls_messages(ALICE, &[b"forged"]).remove(0);
    let fake = signed(
        &a_key,
        request(A, B, vec![entry(&gid, next, &[BOB], &forged)]),
    );
    assert_eq!(
        w.b.endpoint().fanout(&fake).await,
        DsFanoutResponseBody::Ok,
        "B took the forged entry"
    );
    let held = bobs_queue(&mut w).await.group(&gid);
    assert_eq!(held.last(), Some(&(next, forged.clone())), "bob's queue");

    // The link holds, so both groups' next entries wait in A's outbox and
    // go out together (carol's first entry may already be in flight).
    w.to_b.set_open(false);
    carol_sends(&mut w, &mut other_seq, &[b"c1"]).await;
    sends(&mut w, ALICE, &[b"real"]).await;
    assert_eq!(w.seq, next, "alice's real entry");
    carol_sends(&mut w, &mut other_seq, &[b"c2"]).await;
    sends(&mut w, ALICE, &[b"a1"]).await;
    carol_sends(&mut w, &mut other_seq, &[b"c3"]).await;
    sends(&mut w, ALICE, &[b"a2"]).await;
    assert!(w.a.outbox_depth().await > 0, "A's outbox is empty");
    w.to_b.set_open(true);

    // Alice's real entry `next` is refused, in the batch and on its own.
    a_settles(&w, 1).await;
    let dropped =
        w.a.counter("mimi_ds_fanout_dropped_total", &[DESTINATION, CONFLICTING]);
    assert_eq!(dropped.await, 1.0, "A's dropped counter");
    let all_dropped = w.a.counter("mimi_ds_fanout_dropped_total", &[DESTINATION]);
    assert_eq!(all_dropped.await, 1.0, "A dropped for another reason");
    // The operator sees which entry and why.
    let listed =
        w.a.admin(Method::GET, "/admin/v1/dead-letters/ds-b.test")
            .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let letters = listed["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1, "{listed}");
    assert_eq!(letters[0]["reason"], "ConflictingEntry", "{listed}");
    assert_eq!(letters[0]["seq"], next, "{listed}");
    assert_eq!(letters[0]["group_id"], w.gid().as_str(), "{listed}");
    // A batch of several rows (alice's entry `next` always follows c1 or
    // comes after the link opened) and then the row alone: two refusals.
    let refused =
        w.a.counter("mimi_ds_fanout_failures_total", &[DESTINATION, CONFLICTING]);
    assert_eq!(refused.await, 2.0, "A's count of B's refusals");
    let at_b = w.b.counter(
        "mimi_ds_fanout_received_total",
        &["result=\"ConflictingEntry\""],
    );
    assert_eq!(at_b.await, 2.0, "B's count of its refusals");

    // Carol's entries, in the same batches, reach fred once and in order.
    reads(
        &mut w,
        FRED,
        &other,
        other_seq,
        &apps(&[b"c1", b"c2", b"c3"]),
        2..=other_seq,
    )
    .await;

    // B keeps the forged bytes at `next` and has alice's later entries
    // after it, each once.
    let seq = w.seq;
    let queue = bobs_queue_through(&mut w, &gid, seq).await;
    let mut expected = alices_entries(&mut w, 2..=seq);
    let real = std::mem::replace(&mut expected[(next - 2) as usize], (next, forged.clone()));
    assert_ne!(real.1, forged, "the forged entry is alice's");
    assert_eq!(queue.group(&gid), expected, "bob's queue of {gid} on B");
    assert_eq!(queue.entries.len(), expected.len(), "bob's queue on B");

    // The destination is not blocked: both groups go on, A dead-letters
    // nothing more.
    carol_sends(&mut w, &mut other_seq, &[b"c4"]).await;
    sends(&mut w, ALICE, &[b"a3"]).await;
    reads(
        &mut w,
        FRED,
        &other,
        other_seq,
        &apps(&[b"c4"]),
        2..=other_seq,
    )
    .await;
    let seq = w.seq;
    let queue = bobs_queue_through(&mut w, &gid, seq).await;
    expected.extend(alices_entries(&mut w, seq..=seq));
    assert_eq!(queue.group(&gid), expected, "bob's queue of {gid} on B");
    a_settles(&w, 1).await;

    // Bob's client, skipping the forged entry, reads alice's real ones.
    let bob = w.member(BOB);
    let after: Vec<Received> = expected[(next - 1) as usize..]
        .iter()
        .map(|(_, message)| bob.client.receive(message))
        .collect();
    let texts: [&[u8]; 3] = [b"a1", b"a2", b"a3"];
    let texts: Vec<Received> = texts
        .iter()
        .map(|t| Received::Application(t.to_vec()))
        .collect();
    assert_eq!(after, texts, "bob decrypting alice's later entries");
}
