//! `sync` and `ack`: membership intervals, cursors, paging and inboxes.

use std::collections::{BTreeMap, BTreeSet};

use ds_server::storage::{AppendMessage, Cursors, NewInboxEntry, StorageError, Store, SyncPage};

use crate::support::{TestDb, at, commit, create_group, names, on_both_backends};

on_both_backends!(
    a_client_sees_entries_from_after_its_add_to_its_removal,
    a_readded_client_sees_both_intervals_and_not_the_gap,
    sync_pages_through_inbox_and_groups_in_order,
    ack_moves_cursors_forward_only,
    sync_starts_after_the_later_of_given_and_acked_positions,
    inbox_numbers_are_per_client_and_gap_free,
    absurd_page_sizes_and_positions_are_refused,
);

const ALICE: &str = "alice@a.example/1";
const BOB: &str = "bob@a.example/1";

async fn say(store: &Store, group: &str, epoch: u64, body: &str) -> u64 {
    let results = store
        .append_messages(
            &[AppendMessage {
                group_id: group.to_owned(),
                expected_epoch: epoch,
                sender: ALICE.to_owned(),
                message: body.as_bytes().to_vec(),
                outbox: Vec::new(),
            }],
            at(1),
        )
        .await
        .unwrap();
    let [Ok(seq)] = results[..] else {
        panic!("append refused: {results:?}");
    };
    seq
}

/// Adds (`add = true`) or removes `client` with a commit; returns the commit's number.
async fn change_roster(store: &Store, group: &str, client: &str, add: bool) -> u64 {
    let row = store.load_group(group).await.unwrap().unwrap();
    let mut change = commit(group, &row, ALICE);
    if add {
        change.added = names(&[client]);
        change.inbox = vec![NewInboxEntry {
            client_id: client.to_owned(),
            message: format!("welcome to {group}").into_bytes(),
        }];
    } else {
        change.removed = names(&[client]);
    }
    store
        .commit_group_change(&change, at(1))
        .await
        .unwrap()
        .entry_seqs[0]
}

fn seqs(page: &SyncPage) -> Vec<u64> {
    page.group_entries.iter().map(|e| e.seq).collect()
}

async fn a_client_sees_entries_from_after_its_add_to_its_removal(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    create_group(store, g, &[ALICE]).await;
    say(store, g, 1, "before").await; // 1
    let added_at = change_roster(store, g, BOB, true).await; // 2
    say(store, g, 2, "welcome, bob").await; // 3
    let removed_at = change_roster(store, g, BOB, false).await; // 4
    say(store, g, 3, "after bob").await; // 5
    assert_eq!((added_at, removed_at), (2, 4));

    let bob = store.sync(BOB, &Cursors::default(), 100).await.unwrap();
    assert_eq!(
        seqs(&bob),
        vec![3, 4],
        "from after the add, through the removal"
    );
    assert_eq!(bob.inbox.len(), 1);
    assert_eq!(bob.inbox[0].message, b"welcome to g@a.example");
    let alice = store.sync(ALICE, &Cursors::default(), 100).await.unwrap();
    assert_eq!(seqs(&alice), vec![1, 2, 3, 4, 5]);
    assert!(
        store
            .sync("stranger@a.example/1", &Cursors::default(), 100)
            .await
            .unwrap()
            .group_entries
            .is_empty()
    );
    // Naming a group one never belonged to reveals nothing either.
    let nosy = Cursors {
        groups: BTreeMap::from([(g.to_owned(), 0)]),
        inbox: 0,
    };
    assert!(
        store
            .sync("stranger@a.example/1", &nosy, 100)
            .await
            .unwrap()
            .group_entries
            .is_empty()
    );
}

async fn a_readded_client_sees_both_intervals_and_not_the_gap(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    create_group(store, g, &[ALICE, BOB]).await;
    say(store, g, 1, "m1").await; // 1
    change_roster(store, g, BOB, false).await; // 2
    say(store, g, 2, "private").await; // 3
    change_roster(store, g, BOB, true).await; // 4
    say(store, g, 3, "m5").await; // 5
    let bob = store.sync(BOB, &Cursors::default(), 100).await.unwrap();
    assert_eq!(seqs(&bob), vec![1, 2, 5]);
    // Removed and added in one commit (a resync): no gap at all.
    let row = store.load_group(g).await.unwrap().unwrap();
    let mut resync = commit(g, &row, BOB);
    resync.removed = names(&[BOB]);
    resync.added = names(&[BOB]);
    store.commit_group_change(&resync, at(1)).await.unwrap(); // 6
    say(store, g, 4, "m7").await; // 7
    let bob = store.sync(BOB, &Cursors::default(), 100).await.unwrap();
    assert_eq!(seqs(&bob), vec![1, 2, 5, 6, 7]);
    assert_eq!(
        store.current_members(g).await.unwrap(),
        names(&[ALICE, BOB])
    );
}

async fn sync_pages_through_inbox_and_groups_in_order(db: TestDb) {
    let store = &db.store;
    for g in ["c@a.example", "a@a.example", "b@a.example"] {
        create_group(store, g, &[ALICE]).await;
        for i in 0..4 {
            say(store, g, 1, &format!("{g}-{i}")).await;
        }
    }
    for i in 0..3 {
        let entry = NewInboxEntry {
            client_id: ALICE.to_owned(),
            message: format!("notice {i}").into_bytes(),
        };
        store.push_inbox(&entry, at(1)).await.unwrap();
    }

    // The inbox alone fills a page of three; the group entries still count.
    let first = store.sync(ALICE, &Cursors::default(), 3).await.unwrap();
    assert_eq!(
        (first.inbox.len(), first.group_entries.len(), first.has_more),
        (3, 0, true)
    );

    let mut position = Cursors::default();
    let mut inbox = Vec::new();
    let mut entries = Vec::new();
    let mut pages = 0;
    loop {
        let page = store.sync(ALICE, &position, 5).await.unwrap();
        pages += 1;
        assert!(page.inbox.len() + page.group_entries.len() <= 5);
        for e in &page.inbox {
            position.inbox = e.seq;
            inbox.push(e.seq);
        }
        for e in &page.group_entries {
            position.groups.insert(e.group_id.clone(), e.seq);
            entries.push((e.group_id.clone(), e.seq));
        }
        if !page.has_more {
            break;
        }
        assert!(pages < 10, "paging must end");
    }
    assert_eq!(pages, 3, "15 entries in pages of 5");
    assert_eq!(inbox, vec![1, 2, 3]);
    let expected: Vec<(String, u64)> = ["a@a.example", "b@a.example", "c@a.example"]
        .iter()
        .flat_map(|g| (1..=4).map(move |s| ((*g).to_owned(), s)))
        .collect();
    assert_eq!(entries, expected);
    // Exactly full last page: has_more is false, and the next sync is empty.
    let rest = store.sync(ALICE, &position, 5).await.unwrap();
    assert_eq!(rest, SyncPage::default());
}

async fn ack_moves_cursors_forward_only(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    create_group(store, g, &[ALICE]).await;
    for i in 0..6 {
        say(store, g, 1, &format!("m{i}")).await;
    }
    for i in 0..3 {
        let entry = NewInboxEntry {
            client_id: ALICE.to_owned(),
            message: vec![i],
        };
        store.push_inbox(&entry, at(1)).await.unwrap();
    }
    let ack = |seq: u64, inbox: u64| Cursors {
        groups: BTreeMap::from([(g.to_owned(), seq)]),
        inbox,
    };

    store.ack(ALICE, &ack(4, 2)).await.unwrap();
    store.ack(ALICE, &ack(2, 1)).await.unwrap();
    let stored = store.acked_cursors(ALICE).await.unwrap();
    assert_eq!(stored, ack(4, 2), "never moved back");
    let page = store.sync(ALICE, &Cursors::default(), 100).await.unwrap();
    assert_eq!(seqs(&page), vec![5, 6]);
    assert_eq!(
        page.inbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3]
    );

    // Beyond the end: clamped to what exists, so later entries are not skipped.
    store.ack(ALICE, &ack(1_000, 1_000)).await.unwrap();
    assert_eq!(store.acked_cursors(ALICE).await.unwrap(), ack(6, 3));
    let later = say(store, g, 1, "later").await;
    assert_eq!(
        seqs(&store.sync(ALICE, &Cursors::default(), 100).await.unwrap()),
        vec![later]
    );

    // Groups the client never belonged to take no cursor.
    let stranger = Cursors {
        groups: BTreeMap::from([("other@a.example".to_owned(), 3)]),
        inbox: 0,
    };
    store.ack(ALICE, &stranger).await.unwrap();
    store.ack(BOB, &ack(3, 0)).await.unwrap();
    assert_eq!(store.acked_cursors(BOB).await.unwrap(), Cursors::default());
    assert_eq!(store.acked_cursors(ALICE).await.unwrap(), ack(6, 3));
}

async fn sync_starts_after_the_later_of_given_and_acked_positions(db: TestDb) {
    let store = &db.store;
    create_group(store, "a@a.example", &[ALICE]).await;
    create_group(store, "b@a.example", &[ALICE]).await;
    for g in ["a@a.example", "b@a.example"] {
        for i in 0..5 {
            say(store, g, 1, &format!("{i}")).await;
        }
    }
    store
        .ack(
            ALICE,
            &Cursors {
                groups: BTreeMap::from([("a@a.example".to_owned(), 3)]),
                inbox: 0,
            },
        )
        .await
        .unwrap();
    let given = Cursors {
        groups: BTreeMap::from([("a@a.example".to_owned(), 1), ("b@a.example".to_owned(), 4)]),
        inbox: 0,
    };
    let page = store.sync(ALICE, &given, 100).await.unwrap();
    let got: Vec<(&str, u64)> = page
        .group_entries
        .iter()
        .map(|e| (e.group_id.as_str(), e.seq))
        .collect();
    assert_eq!(
        got,
        vec![("a@a.example", 4), ("a@a.example", 5), ("b@a.example", 5)]
    );
}

async fn inbox_numbers_are_per_client_and_gap_free(db: TestDb) {
    let clients = ["x@a.example/1", "y@a.example/1"];
    let mut tasks = Vec::new();
    for task in 0..6 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..25 {
                let client = clients[(task + i) % 2];
                let entry = NewInboxEntry {
                    client_id: client.to_owned(),
                    message: vec![task as u8],
                };
                got.push((client, db_push(&store, &entry).await));
            }
            got
        }));
    }
    let mut per_client: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for task in tasks {
        for (client, seq) in task.await.unwrap() {
            assert!(
                per_client.entry(client).or_default().insert(seq),
                "{client} got {seq} twice"
            );
        }
    }
    for client in clients {
        let expected: BTreeSet<u64> = (1..=75).collect();
        assert_eq!(per_client[client], expected, "{client}");
        let page = db
            .store
            .sync(client, &Cursors::default(), 1_000)
            .await
            .unwrap();
        assert_eq!(
            page.inbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=75).collect::<Vec<_>>()
        );
    }
}

async fn db_push(store: &Store, entry: &NewInboxEntry) -> u64 {
    store.push_inbox(entry, at(1)).await.unwrap()
}

async fn absurd_page_sizes_and_positions_are_refused(db: TestDb) {
    let store = &db.store;
    create_group(store, "g@a.example", &[ALICE]).await;
    assert!(matches!(
        store.sync(ALICE, &Cursors::default(), 0).await,
        Err(StorageError::InvalidRequest(_))
    ));
    assert!(matches!(
        store.sync(ALICE, &Cursors::default(), usize::MAX).await,
        Err(StorageError::OutOfRange { .. })
    ));
    let beyond = Cursors {
        groups: BTreeMap::from([("g@a.example".to_owned(), u64::MAX)]),
        inbox: u64::MAX,
    };
    assert!(matches!(
        store.sync(ALICE, &beyond, 10).await,
        Err(StorageError::OutOfRange { .. })
    ));
    assert!(matches!(
        store.ack(ALICE, &beyond).await,
        Err(StorageError::OutOfRange { .. })
    ));
}
