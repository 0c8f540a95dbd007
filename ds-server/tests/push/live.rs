//! Entries reach a subscribed listener as they are stored: first the
//! catch-up after its positions, page by page, then every new entry, woken
//! by the commit (the poll interval is an hour here, so only the wake-up
//! after the commit can deliver within the guard).

use std::time::Duration;

use ds_core::wire::{DsRequestBody, DsResponseBody, PageEnd, QueuePositions};
use ds_server::push::PushOptions;
use ds_server::service::ServiceOptions;

use crate::common::{self, Client, add_request};
use crate::net::ok;
use crate::qs::register;
use crate::support::{TestDb, on_both_backends};
use crate::world::{Conversation, start};
use crate::ws::{Opening, Received, next_page, read_until, subscribe};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const CAROL: &str = "carol@ds-a.example/tablet";

/// Service options under which only wake-ups deliver promptly.
pub fn wake_only() -> ServiceOptions {
    ServiceOptions {
        push: PushOptions {
            poll_interval: Duration::from_secs(3600),
            ..PushOptions::default()
        },
        ..ServiceOptions::default()
    }
}

async fn entries_are_pushed_as_they_are_stored(db: TestDb) {
    let (ds, server) = start(&db, wake_only()).await;
    let mut conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let gid = conv.group_id.as_str().to_owned();
    let mut before = Vec::new();
    for text in [&b"one"[..], b"two", b"three"] {
        before.push(conv.send(&server, 0, text).await);
    }

    // Catch-up in pages of two: the Welcome first, then the three messages.
    let mut bob_push = subscribe(
        &server,
        Opening::Upgrade,
        BOB,
        &conv.members[1].signer,
        &QueuePositions::default(),
        2,
    )
    .await;
    let mut bob = Received::default();
    let first = next_page(&mut bob_push).await;
    assert_eq!(first.end, PageEnd::More);
    bob.take(&first);
    let second = next_page(&mut bob_push).await;
    assert_eq!(second.end, PageEnd::Complete);
    bob.take(&second);
    assert_eq!(bob.inbox, vec![(1, conv.welcome.clone())]);
    let seqs: Vec<u64> = bob.group(&gid).iter().map(|(s, _)| *s).collect();
    let added_at = conv.added_at;
    assert_eq!(seqs, vec![added_at + 1, added_at + 2, added_at + 3]);
    let messages: Vec<Vec<u8>> = bob.group(&gid).iter().map(|(_, m)| m.clone()).collect();
    assert_eq!(messages, before);

    // Carol listens before she is a member: her Welcome arrives live (an
    // inbox write wakes its owner), and bob gets the add commit live.
    let mut carol = Client::new(CAROL);
    register(&server, CAROL, &carol.signer).await;
    let mut carol_push = subscribe(
        &server,
        Opening::ExtendedConnect,
        CAROL,
        &carol.signer,
        &QueuePositions::default(),
        0,
    )
    .await;
    let (update, welcome) =
        conv.members[0].commit_with(|cb| cb.propose_adds(vec![carol.key_package()]));
    let welcome = welcome.unwrap();
    let added = ok(
        &server,
        &conv.members[0].signed(DsRequestBody::AddUsers(add_request(
            update,
            vec![welcome.clone()],
        ))),
    )
    .await;
    assert!(matches!(added, DsResponseBody::Ok), "got {added:?}");
    conv.members[0].merge();
    let carol_page = next_page(&mut carol_push).await;
    assert_eq!(carol_page.inbox.len(), 1);
    assert_eq!(
        carol_page.inbox.as_slice()[0].message.as_slice(),
        &welcome[..]
    );
    assert!(carol_page.group_entries.as_slice().is_empty());
    let commit_seq = added_at + 4;
    read_until(&mut bob_push, &mut bob, &gid, commit_seq).await;
    let commit = bob.group(&gid).last().unwrap().1.clone();
    assert_eq!(conv.members[1].receive(&commit), common::Received::Commit);
    carol
        .join(
            &welcome,
            &conv.group_id,
            |request| match crate::net::post_blocking(&server, request) {
                DsResponseBody::Error(e) => Err(e),
                response => Ok(ds_core::group::Outcome {
                    response,
                    effects: vec![],
                    state_changed: false,
                }),
            },
        )
        .unwrap();

    // Ten messages: both listeners get each one live, in order, and can
    // read them.
    let mut texts = Vec::new();
    for i in 0..10 {
        let text = format!("live {i}").into_bytes();
        conv.send(&server, 0, &text).await;
        texts.push(text);
    }
    let last = commit_seq + 10;
    read_until(&mut bob_push, &mut bob, &gid, last).await;
    let mut carol_received = Received::default();
    read_until(&mut carol_push, &mut carol_received, &gid, last).await;
    let carol_seqs: Vec<u64> = carol_received.group(&gid).iter().map(|(s, _)| *s).collect();
    assert_eq!(
        carol_seqs,
        (commit_seq + 1..=last).collect::<Vec<_>>(),
        "carol sees the entries after the commit that added her"
    );
    for (entry, text) in carol_received.group(&gid).iter().zip(&texts) {
        assert_eq!(
            carol.receive(&entry.1),
            common::Received::Application(text.clone())
        );
    }
    let bob_live = &bob.group(&gid)[4..];
    assert_eq!(bob_live.len(), 10);
    for (entry, text) in bob_live.iter().zip(&texts) {
        assert_eq!(
            conv.members[1].receive(&entry.1),
            common::Received::Application(text.clone())
        );
    }

    // Push never moves the stored cursors: acknowledging is the client's.
    let acked = db.store.acked_cursors(BOB).await.unwrap();
    assert_eq!(acked.groups.get(&gid).copied().unwrap_or(0), 0);
    assert_eq!(acked.inbox, 0);
    server.stop().await;
}

on_both_backends!(entries_are_pushed_as_they_are_stored);
