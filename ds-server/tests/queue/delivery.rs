//! A conversation through `POST /mimi/v1/ds`, read back by each member
//! through `POST /mimi/v1/queue`: the Welcome in the inbox first, the
//! group's entries with gap-free sequence numbers, pages bounded by the
//! client's and the server's maximum, and acknowledgements that never move
//! back.

use ds_core::wire::{PageEnd, QueuePage, QueuePositions};
use ds_server::service::ServiceOptions;
use ds_server::storage::Cursors;

use crate::common::Received;
use crate::qs::{ack_body, positions, qs_ok, signed, sync_all, sync_page};
use crate::support::{TestDb, on_both_backends};
use crate::world::{Conversation, start};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const CAROL: &str = "carol@ds-a.example/tablet";

/// The server's page maximum in this test, small enough to need paging.
const SERVER_MAX: u32 = 4;

/// (sequence, sender, message) of every group entry of `pages`, in order.
fn group_entries(pages: &[QueuePage]) -> Vec<(u64, Option<String>, Vec<u8>)> {
    pages
        .iter()
        .flat_map(|p| p.group_entries.as_slice())
        .map(|e| {
            (
                e.sequence,
                e.sender.as_ref().map(|s| s.as_str().to_owned()),
                e.message.as_slice().to_vec(),
            )
        })
        .collect()
}

fn inbox(pages: &[QueuePage]) -> Vec<(u64, Vec<u8>)> {
    pages
        .iter()
        .flat_map(|p| p.inbox.as_slice())
        .map(|e| (e.sequence, e.message.as_slice().to_vec()))
        .collect()
}

/// Every page but the last says `More`, the last `Complete`, none is larger
/// than `limit`.
fn assert_paged(pages: &[QueuePage], limit: usize) {
    for (i, page) in pages.iter().enumerate() {
        let len = page.inbox.as_slice().len() + page.group_entries.as_slice().len();
        assert!(len <= limit, "page {i} holds {len} > {limit} entries");
        let last = i + 1 == pages.len();
        let expected = if last {
            PageEnd::Complete
        } else {
            PageEnd::More
        };
        assert_eq!(page.end, expected, "page {i} of {}", pages.len());
        if !last {
            assert_eq!(len, limit, "a page with more to come is full");
        }
    }
}

async fn members_sync_their_queues(db: TestDb) {
    let options = ServiceOptions {
        max_page_entries: SERVER_MAX,
        ..ServiceOptions::default()
    };
    let (ds, server) = start(&db, options).await;
    let mut chat = Conversation::start(&server, &db, &ds, &[ALICE, BOB, CAROL]).await;
    let gid = chat.group_id.as_str().to_owned();
    let mut sent = Vec::new();
    sent.push((BOB, chat.send(&server, 1, b"hi from bob").await));
    sent.push((CAROL, chat.send(&server, 2, b"hi from carol").await));
    for text in [&b"one"[..], b"two", b"three"] {
        sent.push((ALICE, chat.send(&server, 0, text).await));
    }
    let log_len = db.store.log_len(&gid).await.unwrap();
    assert_eq!(log_len, chat.added_at + sent.len() as u64);

    // Bob: the Welcome first, then everything after the commit that added
    // him, gap-free, with senders, in pages of the server's maximum.
    let bob = &chat.members[1];
    let start_at = QueuePositions::default();
    let (pages, bob_end) = sync_all(&server, BOB, &bob.signer, &start_at, 0).await;
    assert_paged(&pages, SERVER_MAX as usize);
    assert_eq!(pages.len(), 2, "6 entries in pages of 4");
    assert_eq!(inbox(&pages), vec![(1, chat.welcome.clone())]);
    assert!(
        pages[0].group_entries.as_slice().len() < SERVER_MAX as usize,
        "the inbox entry comes first, in the same page"
    );
    let bob_entries = group_entries(&pages);
    let expected: Vec<(u64, Option<String>, Vec<u8>)> = sent
        .iter()
        .enumerate()
        .map(|(i, (who, m))| {
            (
                chat.added_at + 1 + i as u64,
                Some((*who).to_owned()),
                m.clone(),
            )
        })
        .collect();
    assert_eq!(bob_entries, expected);

    // A smaller page size asked by the client gives the same entries.
    let (small, small_end) = sync_all(&server, BOB, &bob.signer, &start_at, 2).await;
    assert_paged(&small, 2);
    assert_eq!(small.len(), 3);
    assert_eq!(inbox(&small), inbox(&pages));
    assert_eq!(group_entries(&small), bob_entries);
    assert_eq!(small_end, bob_end);

    // The entries are the real messages: bob decrypts the others'.
    for (_, sender, message) in &bob_entries {
        if sender.as_deref() != Some(BOB) {
            assert!(matches!(
                chat.members[1].receive(message),
                Received::Application(_)
            ));
        }
    }

    // Carol sees the same log from the same Welcome.
    let carol = &chat.members[2];
    let (carol_pages, _) = sync_all(&server, CAROL, &carol.signer, &start_at, 0).await;
    assert_eq!(inbox(&carol_pages), vec![(1, chat.welcome.clone())]);
    assert_eq!(group_entries(&carol_pages), bob_entries);

    // Alice has no inbox entry; her log runs gap-free up to the end and
    // includes the add commit.
    let alice = &chat.members[0];
    let (alice_pages, _) = sync_all(&server, ALICE, &alice.signer, &start_at, 0).await;
    assert!(inbox(&alice_pages).is_empty());
    let alice_entries = group_entries(&alice_pages);
    let sequences: Vec<u64> = alice_entries.iter().map(|e| e.0).collect();
    let first = sequences[0];
    assert_eq!(sequences, (first..=log_len).collect::<Vec<_>>());
    assert!(first <= chat.added_at, "alice sees the add commit");
    assert!(alice_entries.ends_with(&expected));

    // Bob acknowledges the Welcome and up to "two": a sync from nothing
    // returns only "three".
    let two = chat.added_at + 4;
    qs_ok(
        &server,
        &signed(
            BOB,
            &chat.members[1].signer,
            ack_body(&positions(1, &[(&gid, two)])),
        ),
    )
    .await;
    let acked = db.store.acked_cursors(BOB).await.unwrap();
    assert_eq!(acked.inbox, 1);
    assert_eq!(acked.groups.get(&gid), Some(&two));
    let bob = &chat.members[1];
    let rest = sync_page(&server, BOB, &bob.signer, &start_at, 0).await;
    assert!(rest.inbox.as_slice().is_empty());
    assert_eq!(
        group_entries(std::slice::from_ref(&rest)),
        expected[4..].to_vec()
    );
    assert_eq!(rest.end, PageEnd::Complete);

    // Explicit older positions do not bring back acknowledged entries.
    let older = sync_page(&server, BOB, &bob.signer, &positions(0, &[(&gid, 1)]), 0).await;
    assert_eq!(older, rest);

    // An acknowledgement never moves back.
    qs_ok(
        &server,
        &signed(BOB, &bob.signer, ack_body(&positions(0, &[(&gid, 1)]))),
    )
    .await;
    assert_eq!(db.store.acked_cursors(BOB).await.unwrap(), acked);
    assert_eq!(
        sync_page(&server, BOB, &bob.signer, &start_at, 0).await,
        rest
    );

    // Acknowledging beyond the end is capped at the end; then nothing is left.
    qs_ok(
        &server,
        &signed(
            BOB,
            &bob.signer,
            ack_body(&positions(7, &[(&gid, log_len + 100)])),
        ),
    )
    .await;
    let all_acked = db.store.acked_cursors(BOB).await.unwrap();
    assert_eq!(all_acked.inbox, 1);
    assert_eq!(all_acked.groups.get(&gid), Some(&log_len));
    let empty = sync_page(&server, BOB, &bob.signer, &start_at, 0).await;
    assert_eq!(empty, QueuePage::default());

    // A new message after the acknowledgement is all bob gets next.
    let later = chat.send(&server, 0, b"after the ack").await;
    let bob = &chat.members[1];
    let next = sync_page(&server, BOB, &bob.signer, &start_at, 0).await;
    assert_eq!(
        group_entries(&[next]),
        vec![(log_len + 1, Some(ALICE.to_owned()), later)]
    );

    // Acknowledgements are per client: carol's queue is untouched.
    assert_eq!(
        db.store.acked_cursors(CAROL).await.unwrap(),
        Cursors::default()
    );
    server.stop().await;
}

on_both_backends!(members_sync_their_queues);
