//! `commit_group_change`: atomicity, compare-and-set, and what it writes.

use std::sync::Arc;

use ds_server::storage::{
    GroupChange, NewInboxEntry, NewOutboxEntry, StorageError, Store, StoreOptions,
};
use tokio::sync::Barrier;

use crate::support::{TestDb, at, commit, create_group, entry, names, on_both_backends};

on_both_backends!(
    a_commit_writes_state_log_roster_inbox_and_outbox_together,
    concurrent_commits_for_one_epoch_exactly_one_wins,
    two_stores_on_one_database_never_both_accept_an_epoch,
    a_losing_commit_writes_nothing,
    proposals_within_an_epoch_bump_the_revision,
    invalid_changes_are_refused,
    changing_an_unknown_group_fails,
    deleting_a_group_ends_every_membership_at_its_last_entry,
);

const ALICE: &str = "alice@a.example/1";
const BOB: &str = "bob@a.example/1";
const CAROL: &str = "carol@a.example/1";

async fn a_commit_writes_state_log_roster_inbox_and_outbox_together(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let row = create_group(store, group, &[ALICE]).await;
    let mut change = commit(group, &row, ALICE);
    change.entries = vec![entry(ALICE, "proposal"), entry(ALICE, "commit")];
    change.added = names(&[BOB, CAROL]);
    change.inbox = vec![
        NewInboxEntry {
            client_id: CAROL.to_owned(),
            message: b"welcome".to_vec(),
        },
        NewInboxEntry {
            client_id: BOB.to_owned(),
            message: b"welcome".to_vec(),
        },
        NewInboxEntry {
            client_id: BOB.to_owned(),
            message: b"notice".to_vec(),
        },
    ];
    // One row per log entry it carries: the first entry, and the second.
    change.outbox = vec![
        NewOutboxEntry {
            destination: "b.example".to_owned(),
            entry_index: 0,
            payload: b"fanout".to_vec(),
        },
        NewOutboxEntry {
            destination: "b.example".to_owned(),
            entry_index: 1,
            payload: b"fanout-2".to_vec(),
        },
    ];

    let result = store.commit_group_change(&change, at(200)).await.unwrap();
    assert_eq!(result.revision, 1);
    assert_eq!(result.entry_seqs, vec![1, 2]);
    // Numbers in the order given, counted per client.
    assert_eq!(result.inbox_seqs, vec![1, 1, 2]);

    let row = store.load_group(group).await.unwrap().unwrap();
    assert_eq!((row.epoch, row.revision, row.next_seq), (2, 1, 3));
    assert_eq!(row.state, b"state-2");
    assert_eq!(
        store.current_members(group).await.unwrap(),
        names(&[ALICE, BOB, CAROL])
    );

    let pending = store.outbox_pending("b.example", 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].group_id.as_deref(), Some(group));
    let rows: Vec<(Option<u64>, &[u8])> = pending.iter().map(|p| (p.seq, &p.payload[..])).collect();
    assert_eq!(
        rows,
        vec![(Some(1), &b"fanout"[..]), (Some(2), &b"fanout-2"[..])]
    );
    assert_eq!(pending[0].created_at, at(200));

    let bob = store.sync(BOB, &Default::default(), 10).await.unwrap();
    let inbox: Vec<(u64, &[u8])> = bob.inbox.iter().map(|e| (e.seq, &e.message[..])).collect();
    assert_eq!(inbox, vec![(1, &b"welcome"[..]), (2, &b"notice"[..])]);
    // Added by the commit at 2: nothing before it.
    assert!(bob.group_entries.is_empty());
}

async fn concurrent_commits_for_one_epoch_exactly_one_wins(db: TestDb) {
    let store = &db.store;
    let group = "race@a.example";
    create_group(store, group, &[ALICE, BOB]).await;
    for round in 0..50u64 {
        let row = store.load_group(group).await.unwrap().unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for contender in [ALICE, BOB] {
            let (store, barrier) = (store.clone(), Arc::clone(&barrier));
            let mut change = commit(group, &row, contender);
            change.new_state = format!("{contender}-{round}").into_bytes();
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                (contender, store.commit_group_change(&change, at(300)).await)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (contender, Ok(result)) => winners.push((contender, result)),
                (_, Err(StorageError::EpochConflict { group_id })) => assert_eq!(group_id, group),
                (_, Err(other)) => panic!("round {round}: unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one commit wins");
        let (winner, result) = &winners[0];
        let after = store.load_group(group).await.unwrap().unwrap();
        assert_eq!(after.epoch, row.epoch + 1);
        assert_eq!(after.revision, row.revision + 1);
        assert_eq!(after.state, format!("{winner}-{round}").into_bytes());
        assert_eq!(after.next_seq, row.next_seq + 1);
        assert_eq!(result.entry_seqs, vec![row.next_seq]);
    }
    assert_eq!(store.log_len(group).await.unwrap(), 50);
}

async fn two_stores_on_one_database_never_both_accept_an_epoch(db: TestDb) {
    // Two pools stand in for two mimi-ds processes sharing the database.
    let other = Store::connect_with(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    let group = "shared@a.example";
    create_group(&db.store, group, &[ALICE]).await;
    for round in 0..20 {
        let row = db.store.load_group(group).await.unwrap().unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = Vec::new();
        for store in [db.store.clone(), other.clone()] {
            let barrier = Arc::clone(&barrier);
            let change = commit(group, &row, ALICE);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store.commit_group_change(&change, at(1)).await
            }));
        }
        let mut accepted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(StorageError::EpochConflict { .. }) => {}
                Err(other) => panic!("round {round}: unexpected {other}"),
            }
        }
        assert_eq!(accepted, 1, "round {round}");
    }
    let row = other.load_group(group).await.unwrap().unwrap();
    assert_eq!((row.epoch, row.next_seq), (21, 21));
    other.close().await;
}

async fn a_losing_commit_writes_nothing(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let stale = create_group(store, group, &[ALICE]).await;
    store
        .commit_group_change(&commit(group, &stale, ALICE), at(1))
        .await
        .unwrap();
    let before_rows = db.all_rows().await;
    let before = store.load_group(group).await.unwrap().unwrap();

    let mut late = commit(group, &stale, BOB);
    late.added = names(&[CAROL]);
    late.inbox = vec![NewInboxEntry {
        client_id: CAROL.to_owned(),
        message: b"w".to_vec(),
    }];
    late.outbox = vec![NewOutboxEntry {
        destination: "b.example".to_owned(),
        entry_index: 0,
        payload: b"x".to_vec(),
    }];
    assert!(matches!(
        store.commit_group_change(&late, at(2)).await,
        Err(StorageError::EpochConflict { .. })
    ));
    assert_eq!(db.all_rows().await, before_rows);
    assert_eq!(store.load_group(group).await.unwrap().unwrap(), before);
}

async fn proposals_within_an_epoch_bump_the_revision(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let row = create_group(store, group, &[ALICE]).await;
    let proposal = GroupChange {
        new_epoch: row.epoch,
        new_state: b"with-proposal".to_vec(),
        entries: vec![entry(ALICE, "proposal")],
        ..commit(group, &row, ALICE)
    };
    let result = store.commit_group_change(&proposal, at(1)).await.unwrap();
    assert_eq!(result.revision, 1);
    let after = store.load_group(group).await.unwrap().unwrap();
    assert_eq!((after.epoch, after.revision), (row.epoch, 1));

    // A second proposal computed from the old revision would drop the first.
    let stale = GroupChange {
        new_state: b"lost-update".to_vec(),
        ..proposal.clone()
    };
    assert!(matches!(
        store.commit_group_change(&stale, at(2)).await,
        Err(StorageError::EpochConflict { .. })
    ));
    // Application messages of the epoch still go through.
    let appended = store
        .append_messages(
            &[ds_server::storage::AppendMessage {
                group_id: group.to_owned(),
                expected_epoch: row.epoch,
                sender: ALICE.to_owned(),
                message: b"hi".to_vec(),
                outbox: Vec::new(),
            }],
            at(3),
        )
        .await
        .unwrap();
    assert_eq!(appended, vec![Ok(2)]);
}

async fn invalid_changes_are_refused(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let row = create_group(store, group, &[ALICE]).await;
    let skip = GroupChange {
        new_epoch: row.epoch + 2,
        ..commit(group, &row, ALICE)
    };
    let back = GroupChange {
        new_epoch: row.epoch - 1,
        ..commit(group, &row, ALICE)
    };
    let unanchored = GroupChange {
        entries: Vec::new(),
        added: names(&[BOB]),
        ..commit(group, &row, ALICE)
    };
    let unanchored_delete = GroupChange {
        entries: Vec::new(),
        delete_group: true,
        ..commit(group, &row, ALICE)
    };
    for change in [skip, back, unanchored, unanchored_delete] {
        assert!(matches!(
            store.commit_group_change(&change, at(1)).await,
            Err(StorageError::InvalidRequest(_))
        ));
    }
    assert_eq!(store.load_group(group).await.unwrap().unwrap(), row);
    // A state-only change without entries is fine.
    let quiet = GroupChange {
        new_epoch: row.epoch,
        entries: Vec::new(),
        ..commit(group, &row, ALICE)
    };
    let result = store.commit_group_change(&quiet, at(1)).await.unwrap();
    assert!(result.entry_seqs.is_empty());
    assert_eq!(store.load_group(group).await.unwrap().unwrap().next_seq, 1);
}

async fn changing_an_unknown_group_fails(db: TestDb) {
    let store = &db.store;
    let reserved = create_group(store, "g@a.example", &[]).await;
    let change = commit("nope@a.example", &reserved, ALICE);
    assert!(matches!(
        store.commit_group_change(&change, at(1)).await,
        Err(StorageError::GroupNotFound(id)) if id == "nope@a.example"
    ));
    store
        .allocate_group_id("reserved@a.example", at(1))
        .await
        .unwrap();
    let change = commit("reserved@a.example", &reserved, ALICE);
    assert!(matches!(
        store.commit_group_change(&change, at(1)).await,
        Err(StorageError::GroupNotFound(_))
    ));
}

async fn deleting_a_group_ends_every_membership_at_its_last_entry(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let row = create_group(store, group, &[ALICE, BOB]).await;
    let mut delete = commit(group, &row, ALICE);
    delete.entries = vec![entry(ALICE, "remove-all"), entry(ALICE, "delete")];
    delete.delete_group = true;
    let result = store.commit_group_change(&delete, at(1)).await.unwrap();
    assert_eq!(result.entry_seqs, vec![1, 2]);
    assert!(store.current_members(group).await.unwrap().is_empty());
    let stale = commit(group, &row, ALICE);
    assert!(matches!(
        store.commit_group_change(&stale, at(2)).await,
        Err(StorageError::GroupNotFound(_))
    ));
    for member in [ALICE, BOB] {
        let page = store.sync(member, &Default::default(), 10).await.unwrap();
        let seqs: Vec<u64> = page.group_entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2], "{member} still reads the final entries");
    }
}
