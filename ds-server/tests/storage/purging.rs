//! `purge`: entries go once every member passed them or retention ends.

use std::collections::BTreeMap;
use std::time::Duration;

use ds_server::storage::{AppendMessage, Cursors, NewInboxEntry, StoredKeyPackage};

use crate::support::{TestDb, at, commit, create_group, names, on_both_backends};

on_both_backends!(
    entries_stay_until_every_member_has_passed_them,
    a_removed_member_holds_entries_only_up_to_its_removal,
    retention_drops_unread_entries_and_sync_shows_the_gap,
    purge_drops_acknowledged_inbox_entries_and_expired_items,
);

const ALICE: &str = "alice@a.example/1";
const BOB: &str = "bob@a.example/1";
const LONG: Duration = Duration::from_secs(1_000_000);

async fn append(db: &TestDb, group: &str, epoch: u64, count: usize, now: u64) {
    for i in 0..count {
        let message = AppendMessage {
            group_id: group.to_owned(),
            expected_epoch: epoch,
            sender: ALICE.to_owned(),
            message: vec![u8::try_from(i).unwrap()],
            outbox: Vec::new(),
        };
        db.store.append_messages(&[message], at(now)).await.unwrap();
    }
}

fn upto(group: &str, seq: u64) -> Cursors {
    Cursors {
        groups: BTreeMap::from([(group.to_owned(), seq)]),
        inbox: 0,
    }
}

async fn entries_stay_until_every_member_has_passed_them(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    create_group(store, g, &[ALICE, BOB]).await;
    append(&db, g, 1, 5, 10).await;

    assert_eq!(store.purge(at(20), LONG).await.unwrap().log_entries, 0);
    store.ack(ALICE, &upto(g, 5)).await.unwrap();
    store.ack(BOB, &upto(g, 2)).await.unwrap();
    assert_eq!(store.purge(at(20), LONG).await.unwrap().log_entries, 2);
    assert_eq!(store.log_len(g).await.unwrap(), 3);
    let bob = store.sync(BOB, &Cursors::default(), 10).await.unwrap();
    assert_eq!(
        bob.group_entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );

    store.ack(BOB, &upto(g, 5)).await.unwrap();
    assert_eq!(store.purge(at(20), LONG).await.unwrap().log_entries, 3);
    assert_eq!(store.log_len(g).await.unwrap(), 0);
    // Numbering goes on where it was.
    append(&db, g, 1, 1, 30).await;
    let alice = store.sync(ALICE, &Cursors::default(), 10).await.unwrap();
    assert_eq!(
        alice
            .group_entries
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![6]
    );
}

async fn a_removed_member_holds_entries_only_up_to_its_removal(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE, BOB]).await;
    append(&db, g, 1, 2, 10).await; // 1, 2
    let mut remove = commit(g, &row, ALICE);
    remove.removed = names(&[BOB]);
    store.commit_group_change(&remove, at(10)).await.unwrap(); // 3
    append(&db, g, 2, 2, 10).await; // 4, 5
    store.ack(ALICE, &upto(g, 5)).await.unwrap();

    // Bob has read nothing: 1..=3 wait for him, 4 and 5 are not his.
    assert_eq!(store.purge(at(20), LONG).await.unwrap().log_entries, 0);
    store.ack(BOB, &upto(g, 1)).await.unwrap();
    assert_eq!(store.purge(at(20), LONG).await.unwrap().log_entries, 1);
    store.ack(BOB, &upto(g, 3)).await.unwrap();
    let report = store.purge(at(20), LONG).await.unwrap();
    assert_eq!(report.log_entries, 4);
    assert_eq!(report.memberships, 1, "bob's finished interval is dropped");
    assert_eq!(db.rows("memberships").await, 1);
    assert_eq!(db.rows("group_cursors").await, 1);
}

async fn retention_drops_unread_entries_and_sync_shows_the_gap(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    create_group(store, g, &[ALICE]).await;
    append(&db, g, 1, 3, 100).await; // 1..=3 at t=100
    append(&db, g, 1, 2, 500).await; // 4, 5 at t=500
    let report = store
        .purge(at(1_000), Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(report.log_entries, 3);
    let page = store.sync(ALICE, &Cursors::default(), 10).await.unwrap();
    // The first number is 4, not 1: the client can tell it missed entries.
    assert_eq!(
        page.group_entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![4, 5]
    );
}

async fn purge_drops_acknowledged_inbox_entries_and_expired_items(db: TestDb) {
    let store = &db.store;
    for i in 0..3 {
        let entry = NewInboxEntry {
            client_id: ALICE.to_owned(),
            message: vec![i],
        };
        store.push_inbox(&entry, at(100)).await.unwrap();
    }
    let old = NewInboxEntry {
        client_id: BOB.to_owned(),
        message: b"old".to_vec(),
    };
    store.push_inbox(&old, at(1)).await.unwrap();
    store
        .ack(
            ALICE,
            &Cursors {
                groups: BTreeMap::new(),
                inbox: 2,
            },
        )
        .await
        .unwrap();
    let kp = |name: &str, not_after: u64| StoredKeyPackage {
        kp_ref: name.as_bytes().to_vec(),
        key_package: name.as_bytes().to_vec(),
        connection: false,
        last_resort: false,
        not_after: at(not_after),
    };
    store
        .publish_key_packages(ALICE, &[kp("expired", 150), kp("valid", 500)], at(100))
        .await
        .unwrap();
    store.create_token(b"expired", at(150)).await.unwrap();
    store.create_token(b"valid", at(500)).await.unwrap();

    let report = store
        .purge(at(200), Duration::from_secs(150))
        .await
        .unwrap();
    assert_eq!(
        report.inbox_entries, 3,
        "two acknowledged, one past retention"
    );
    assert_eq!(report.key_packages, 1);
    assert_eq!(report.tokens, 1);
    let page = store.sync(ALICE, &Cursors::default(), 10).await.unwrap();
    assert_eq!(
        page.inbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3]
    );
    assert!(store.consume_token(b"valid", at(200)).await.unwrap());
    assert_eq!(
        store
            .key_package_count(ALICE, false, at(200))
            .await
            .unwrap(),
        1
    );
    // Inbox numbering continues after a purge.
    let next = NewInboxEntry {
        client_id: BOB.to_owned(),
        message: b"new".to_vec(),
    };
    assert_eq!(store.push_inbox(&next, at(200)).await.unwrap(), 2);
}
