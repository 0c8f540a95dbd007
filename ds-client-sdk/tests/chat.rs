//! `mimi-chat` between two real federated DSs (`ds-a.test`, `ds-b.test`):
//! two processes driven through pipes, alice on A and bob on B, create a
//! group, invite across domains, converse, list, leave, and part; the test checks
//! the exact lines each prints.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[allow(dead_code)] // the SDK-level helpers are for the other tests
mod harness;

#[path = "chat/mod.rs"]
mod chat;

use chat::Chat;
use harness::{A, B, World};

#[tokio::test(flavor = "multi_thread")]
async fn two_users_of_two_domains_chat_through_pipes() {
    let world = World::start().await;
    let mut alice = Chat::start(&world, A, "alice", "laptop");
    let mut bob = Chat::start(&world, B, "bob", "phone");
    // Registered, key packages published.
    let mut a = alice
        .expect(
            0,
            "* connected as alice@ds-a.test/laptop; /help lists the commands",
        )
        .await;
    let mut b = bob
        .expect(
            0,
            "* connected as bob@ds-b.test/phone; /help lists the commands",
        )
        .await;

    // Nothing to send to yet.
    bob.say("anyone?").await;
    b = bob
        .expect(b, "! no current group: /create NAME or /switch NAME")
        .await;

    alice.say("/create team").await;
    let created = alice
        .wait_for(a, "* created #team (...)", |l| {
            l.starts_with("* created #team (") && l.ends_with("@ds-a.test)")
        })
        .await;
    let line = alice.line(created);
    let gid = line
        .strip_prefix("* created #team (")
        .and_then(|l| l.strip_suffix(')'))
        .unwrap()
        .to_owned();
    a = alice.expect(created + 1, "* current group #team").await;

    // By user: the SDK fetches a key package of each of bob's devices from
    // ds-b (ds_user_key_packages) and adds them all.
    alice.say("/invite bob@ds-b.test").await;
    a = alice.expect(a, "* invited bob@ds-b.test to #team").await;
    // Bob's invitation, and the group becomes his current one.
    b = bob.expect(b, "#team * you joined").await;
    b = bob.expect(b, "* current group #team").await;

    bob.say("hello alice").await;
    a = alice.expect(a, "#team <bob@ds-b.test> hello alice").await;
    alice.say("hi bob").await;
    alice.say("how is B?").await;
    b = bob.expect(b, "#team <alice@ds-a.test> hi bob").await;
    b = bob.expect(b, "#team <alice@ds-a.test> how is B?").await;

    let members = "* members of #team: alice@ds-a.test/laptop, bob@ds-b.test/phone";
    alice.say("/list").await;
    a = alice.expect(a, members).await;
    bob.say("/list").await;
    b = bob.expect(b, members).await;
    bob.say("/groups").await;
    b = bob
        .expect(b, &format!("* group #team {gid} (current)"))
        .await;
    bob.say("/switch nope").await;
    b = bob.expect(b, "! no group nope; /groups lists them").await;

    // Alice removes bob: both see it, and bob's input has nowhere to go.
    alice.say("/kick bob@ds-b.test").await;
    a = alice.expect(a, "* removed bob@ds-b.test from #team").await;
    b = bob.expect(b, "#team * you left").await;
    bob.say("/groups").await;
    b = bob.expect(b, "* no groups").await;
    alice.say("/list").await;
    a = alice
        .expect(a, "* members of #team: alice@ds-a.test/laptop")
        .await;

    // In a second group bob leaves by himself: nobody types a commit,
    // alice's client commits his self-removal.
    alice.say("/create club").await;
    a = alice.expect(a, "* current group #club").await;
    alice.say("/invite bob@ds-b.test").await;
    a = alice.expect(a, "* invited bob@ds-b.test to #club").await;
    b = bob.expect(b, "#club * you joined").await;
    b = bob.expect(b, "* current group #club").await;
    bob.say("/leave").await;
    b = bob.expect(b, "#club * you left").await;
    a = alice.expect(a, "#club * bob@ds-b.test left").await;
    bob.say("/groups").await;
    bob.expect(b, "* no groups").await;
    alice.say("/list").await;
    alice
        .expect(a, "* members of #club: alice@ds-a.test/laptop")
        .await;

    // At the end of input each exits by itself, having printed nothing
    // more than the test saw (no error, no stray event).
    let a_count = alice.count();
    let b_count = bob.count();
    let alice_lines = alice.close().await;
    let bob_lines = bob.close().await;
    assert_eq!(alice_lines.len(), a_count, "{alice_lines:#?}");
    assert_eq!(bob_lines.len(), b_count, "{bob_lines:#?}");
    for line in alice_lines.iter().chain(&bob_lines) {
        assert!(
            !line.starts_with("! ") || line.starts_with("! no "),
            "unexpected error line {line:?}"
        );
    }
}
