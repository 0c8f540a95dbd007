//! The link between the DSs fails: the guest killed (kill -9) while the
//! owner keeps accepting, the owner restarted (gracefully and by kill -9)
//! with undelivered fan-out, the guest reachable only through a stalled
//! and then slow link. The owner's clients are answered throughout, its
//! durable outbox holds what is owed, and once the link is back every
//! entry reaches the guest's clients exactly once and in order.

use std::time::Duration;

use crate::member::Got;
use crate::pki::TestCa;
use crate::poll::Wait;
use crate::world::{A, B, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const BOB: &str = "bob@ds-b.test/phone";

/// Alice (A) and bob (B) in a group of A; one message went through.
async fn pair() -> World {
    let mut w = World::start().await;
    w.enrol(&[ALICE, BOB]).await;
    w.create_group(ALICE).await;
    w.add(ALICE, &[BOB]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.say(ALICE, b"before", &[BOB]).await;
    w
}

/// Alice sends each of `texts`; A answers every one of them.
async fn alice_sends(w: &mut World, texts: &[&[u8]]) {
    for text in texts {
        let request = w.member(ALICE).message(text);
        w.accepted(ALICE, &request, false).await;
        w.all_get(&[ALICE], &[Got::Own]).await;
    }
}

/// Bob reads up to the log's end and got exactly `texts`; B's queue holds
/// every entry of his membership once.
async fn bob_gets(w: &mut World, texts: &[&[u8]]) {
    let expected: Vec<Got> = texts.iter().map(|t| Got::App(t.to_vec())).collect();
    w.all_get(&[BOB], &expected).await;
    let home = w.home(BOB);
    let queue = w.member(BOB).queue(&home).await;
    let numbers: Vec<u64> = queue.entries.iter().map(|(_, seq, _)| *seq).collect();
    assert_eq!(numbers, (2..=w.seq).collect::<Vec<_>>(), "bob's queue on B");
    assert_eq!(w.member(BOB).duplicates, 0, "B served bob entries twice");
}

/// A's outbox holds something (B is unreachable).
async fn outbox_holds(w: &World) -> u64 {
    let depth = w.a.outbox_depth().await;
    assert!(depth > 0, "A's outbox is empty while B is down");
    depth
}

async fn outbox_drains(w: &World) {
    let wait = Wait::new("A's outbox to drain");
    while w.a.outbox_depth().await != 0 {
        wait.step().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_guest_gets_everything_once_when_it_returns() {
    let mut w = pair().await;
    w.kill9(B);
    let texts: [&[u8]; 5] = [b"one", b"two", b"three", b"four", b"five"];
    alice_sends(&mut w, &texts).await;
    outbox_holds(&w).await;

    w.restart(B);
    bob_gets(&mut w, &texts).await;
    outbox_drains(&w).await;
    // And back the other way: bob (B) answers through A.
    w.say(BOB, b"missed me?", &[ALICE]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_restarted_with_a_full_outbox_loses_nothing() {
    let mut w = pair().await;
    w.kill9(B);
    alice_sends(&mut w, &[b"one", b"two"]).await;
    let depth = outbox_holds(&w).await;

    // A stops cleanly and comes back: the outbox is still there.
    w.stop(A);
    w.restart(A);
    assert_eq!(
        w.a.outbox_depth().await,
        depth,
        "A's outbox after a restart"
    );
    alice_sends(&mut w, &[b"three"]).await;

    // A is killed and comes back.
    w.kill9(A);
    w.restart(A);
    alice_sends(&mut w, &[b"four"]).await;
    assert!(w.a.outbox_depth().await > depth, "A's outbox kept growing");

    w.restart(B);
    bob_gets(&mut w, &[b"one", b"two", b"three", b"four"]).await;
    outbox_drains(&w).await;
    w.say(BOB, b"all here", &[ALICE]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_then_slow_guest_does_not_hold_up_the_owner() {
    let mut w = pair().await;

    // The link to B holds everything: A still answers its clients, and
    // nothing of theirs reaches B meanwhile.
    w.to_b.set_open(false);
    let forwarded = w.to_b.forwarded();
    alice_sends(&mut w, &[b"one", b"two", b"three"]).await;
    assert_eq!(
        w.to_b.forwarded(),
        forwarded,
        "bytes reached B through a closed link"
    );
    let home = w.home(BOB);
    assert!(
        w.member(BOB).read(&home).await.is_empty(),
        "B has entries it cannot have got"
    );
    outbox_holds(&w).await;

    // Now every chunk, both ways, takes 300 ms: it all arrives.
    w.to_b.set_delay(Duration::from_millis(300));
    w.to_b.set_open(true);
    bob_gets(&mut w, &[b"one", b"two", b"three"]).await;

    // Still slow: alice's sends are answered as fast as ever, and arrive.
    alice_sends(&mut w, &[b"four", b"five"]).await;
    bob_gets(&mut w, &[b"four", b"five"]).await;
    outbox_drains(&w).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_that_does_not_trust_the_guest_keeps_what_it_owes() {
    let mut w = pair().await;
    // A restarts trusting only another CA: B's certificate fails.
    let other = TestCa::new(w.dir.path(), "other-ca");
    w.stop(A);
    w.a.set_trust_roots(vec![other.cert.clone()]);
    w.restart(A);
    alice_sends(&mut w, &[b"unverified"]).await;
    let tls = ["destination=\"ds-b.test\"", "reason=\"tls\""];
    let wait = Wait::new("A to count a TLS failure towards B");
    while w.a.counter("mimi_ds_fanout_failures_total", &tls).await < 1.0 {
        wait.step().await;
    }
    outbox_holds(&w).await;
    let home = w.home(BOB);
    assert!(
        w.member(BOB).read(&home).await.is_empty(),
        "B got an entry over an untrusted link"
    );

    // Trusting the right CA again, A delivers what it kept.
    w.stop(A);
    let ca = w.ca.cert.clone();
    w.a.set_trust_roots(vec![ca]);
    w.restart(A);
    bob_gets(&mut w, &[b"unverified"]).await;
    outbox_drains(&w).await;
}
