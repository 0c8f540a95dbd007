//! `apply_fanout`: a guest DS's replica of another domain's group, kept under
//! the owner's numbers, read by its clients like a local group.

use std::collections::BTreeMap;
use std::time::Duration;

use ds_server::storage::{ApplyOutcome, Cursors, ReplicaEntry, ReplicaKind, StorageError, Store};
use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::types::HashType;

use crate::support::{TestDb, at, create_group, names, on_both_backends};

on_both_backends!(
    entries_are_stored_under_the_owners_numbers_and_synced_by_membership,
    a_repeated_fanout_is_stored_once,
    a_conflicting_entry_refuses_the_whole_fanout,
    welcomes_reach_each_inbox_once,
    purge_forgets_replica_entries_and_they_are_not_stored_again,
    a_local_group_is_never_taken_for_a_replica,
    concurrent_fanouts_of_one_group_apply_once,
);

const OWNER: &str = "b.example";
const GROUP: &str = "g@b.example";
const DAN: &str = "dan@a.example/1";
const ERIN: &str = "erin@a.example/1";
const LONG: Duration = Duration::from_secs(1_000_000);

fn message(seq: u64, recipients: &[&str], body: &str) -> ReplicaEntry {
    ReplicaEntry {
        group_id: GROUP.to_owned(),
        seq,
        kind: ReplicaKind::GroupMessage,
        recipients: names(recipients),
        message: body.as_bytes().to_vec(),
    }
}

fn welcome(seq: u64, recipients: &[&str], body: &str) -> ReplicaEntry {
    let digest = RustCrypto::default()
        .hash(HashType::Sha2_256, body.as_bytes())
        .unwrap();
    ReplicaEntry {
        group_id: GROUP.to_owned(),
        seq,
        kind: ReplicaKind::Welcome {
            digest: digest.try_into().unwrap(),
        },
        recipients: names(recipients),
        message: body.as_bytes().to_vec(),
    }
}

/// Dan sees 5 and 6, Erin joins at 6, Dan leaves after 6.
fn first_batch() -> Vec<ReplicaEntry> {
    vec![
        message(5, &[DAN], "m5"),
        message(6, &[DAN, ERIN], "m6"),
        message(7, &[ERIN], "m7"),
        message(8, &[ERIN], "m8"),
    ]
}

async fn log_of(store: &Store, client: &str) -> Vec<(u64, String)> {
    let page = store.sync(client, &Cursors::default(), 100).await.unwrap();
    assert!(!page.has_more);
    page.group_entries
        .into_iter()
        .map(|e| {
            assert_eq!(e.group_id, GROUP);
            assert_eq!(e.sender, None);
            (e.seq, String::from_utf8(e.message).unwrap())
        })
        .collect()
}

fn entries(list: &[(u64, &str)]) -> Vec<(u64, String)> {
    list.iter().map(|(s, b)| (*s, (*b).to_owned())).collect()
}

async fn entries_are_stored_under_the_owners_numbers_and_synced_by_membership(db: TestDb) {
    let store = &db.store;
    let outcome = store
        .apply_fanout(OWNER, &first_batch(), at(10))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ApplyOutcome {
            applied: 4,
            duplicates: 0,
            wake: names(&[DAN, ERIN]),
        }
    );
    assert_eq!(log_of(store, DAN).await, entries(&[(5, "m5"), (6, "m6")]));
    assert_eq!(
        log_of(store, ERIN).await,
        entries(&[(6, "m6"), (7, "m7"), (8, "m8")])
    );
    assert_eq!(store.log_len(GROUP).await.unwrap(), 4);

    // Dan comes back at 9: a new interval, without what he missed.
    store
        .apply_fanout(OWNER, &[message(9, &[DAN, ERIN], "m9")], at(11))
        .await
        .unwrap();
    assert_eq!(
        log_of(store, DAN).await,
        entries(&[(5, "m5"), (6, "m6"), (9, "m9")])
    );

    // A replica is not a group of this DS.
    assert_eq!(store.load_group(GROUP).await.unwrap(), None);
    assert_eq!(store.group_count().await.unwrap(), 0);
    assert_eq!(store.replica_group_count().await.unwrap(), 1);
    assert!(store.groups_of_client(DAN).await.unwrap().is_empty());
}

async fn a_repeated_fanout_is_stored_once(db: TestDb) {
    let store = &db.store;
    store
        .apply_fanout(OWNER, &first_batch(), at(10))
        .await
        .unwrap();
    let before = db.fanout_rows().await;
    let again = store
        .apply_fanout(OWNER, &first_batch(), at(20))
        .await
        .unwrap();
    assert_eq!(
        again,
        ApplyOutcome {
            applied: 0,
            duplicates: 4,
            wake: Vec::new(),
        }
    );
    assert_eq!(db.fanout_rows().await, before);
    assert_eq!(
        log_of(store, ERIN).await,
        entries(&[(6, "m6"), (7, "m7"), (8, "m8")])
    );

    // A batch overlapping the last one stores only what is new.
    let overlap = store
        .apply_fanout(
            OWNER,
            &[message(8, &[ERIN], "m8"), message(9, &[ERIN], "m9")],
            at(21),
        )
        .await
        .unwrap();
    assert_eq!((overlap.applied, overlap.duplicates), (1, 1));
    assert_eq!(overlap.wake, names(&[ERIN]));
    assert_eq!(store.log_len(GROUP).await.unwrap(), 5);
}

async fn a_conflicting_entry_refuses_the_whole_fanout(db: TestDb) {
    let store = &db.store;
    store
        .apply_fanout(OWNER, &first_batch(), at(10))
        .await
        .unwrap();
    let before = db.fanout_rows().await;
    let batch = [
        message(9, &[DAN], "m9"),
        welcome(9, &[DAN], "welcome"),
        message(7, &[ERIN], "not m7"),
    ];
    let refused = store.apply_fanout(OWNER, &batch, at(20)).await;
    assert!(
        matches!(&refused, Err(StorageError::ConflictingEntry { group_id, seq: 7 }) if group_id == GROUP),
        "{refused:?}"
    );
    assert_eq!(db.fanout_rows().await, before, "nothing of the batch stays");
    assert_eq!(log_of(store, DAN).await, entries(&[(5, "m5"), (6, "m6")]));

    // The same batch without the contradiction goes through.
    let outcome = store
        .apply_fanout(OWNER, &batch[..2], at(21))
        .await
        .unwrap();
    assert_eq!(outcome.applied, 2);
}

async fn welcomes_reach_each_inbox_once(db: TestDb) {
    let store = &db.store;
    // A Welcome is the first thing a guest DS hears of a group.
    let batch = [
        welcome(4, &[ERIN, DAN], "welcome-1"),
        welcome(4, &[ERIN], "welcome-2"),
    ];
    let outcome = store.apply_fanout(OWNER, &batch, at(10)).await.unwrap();
    assert_eq!((outcome.applied, outcome.duplicates), (2, 0));
    assert_eq!(outcome.wake, names(&[DAN, ERIN]));
    let again = store.apply_fanout(OWNER, &batch, at(11)).await.unwrap();
    assert_eq!((again.applied, again.duplicates), (0, 2));

    let inbox = |client: &'static str| async move {
        let page = store.sync(client, &Cursors::default(), 100).await.unwrap();
        page.inbox
            .into_iter()
            .map(|e| (e.seq, String::from_utf8(e.message).unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(inbox(DAN).await, entries(&[(1, "welcome-1")]));
    assert_eq!(
        inbox(ERIN).await,
        entries(&[(1, "welcome-1"), (2, "welcome-2")])
    );
    assert_eq!(db.rows("replica_groups").await, 1);
    assert_eq!(store.log_len(GROUP).await.unwrap(), 0);

    // The group's entries follow, and the Welcome's commit number stays usable.
    store
        .apply_fanout(OWNER, &[message(5, &[DAN, ERIN], "m5")], at(12))
        .await
        .unwrap();
    assert_eq!(log_of(store, DAN).await, entries(&[(5, "m5")]));
}

async fn purge_forgets_replica_entries_and_they_are_not_stored_again(db: TestDb) {
    let store = &db.store;
    let mut batch = first_batch();
    batch.push(welcome(8, &[DAN], "welcome"));
    store.apply_fanout(OWNER, &batch, at(10)).await.unwrap();
    let upto = |seq: u64, inbox: u64| Cursors {
        groups: BTreeMap::from([(GROUP.to_owned(), seq)]),
        inbox,
    };
    store.ack(DAN, &upto(6, 1)).await.unwrap();
    let report = store.purge(at(20), LONG).await.unwrap();
    assert_eq!(report.log_entries, 1, "5: Dan read it, Erin never sees it");
    assert_eq!(report.inbox_entries, 1);
    assert_eq!(report.memberships, 1, "Dan's finished interval");
    store.ack(ERIN, &upto(7, 0)).await.unwrap();
    let report = store.purge(at(20), LONG).await.unwrap();
    assert_eq!(report.log_entries, 2);
    assert_eq!(log_of(store, ERIN).await, entries(&[(8, "m8")]));

    // A late retry of the old batch stores nothing again.
    let retry = store.apply_fanout(OWNER, &batch, at(30)).await.unwrap();
    assert_eq!((retry.applied, retry.duplicates), (0, 5));
    assert_eq!(store.log_len(GROUP).await.unwrap(), 1);
    assert_eq!(db.rows("inbox_entries").await, 0);

    // Retention drops the rest, the Welcome marks included.
    store
        .purge(at(10).saturating_add(LONG), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(store.log_len(GROUP).await.unwrap(), 0);
    assert_eq!(db.rows("replica_welcomes").await, 0);
    let later = store
        .apply_fanout(OWNER, &[message(9, &[ERIN], "m9")], at(40))
        .await
        .unwrap();
    assert_eq!(later.applied, 1);
    assert_eq!(log_of(store, ERIN).await, entries(&[(9, "m9")]));
}

async fn a_local_group_is_never_taken_for_a_replica(db: TestDb) {
    let store = &db.store;
    let local = "mine@a.example";
    create_group(store, local, &[DAN]).await;
    store
        .allocate_group_id("reserved@a.example", at(1))
        .await
        .unwrap();
    let before = db.fanout_rows().await;
    for group in [local, "reserved@a.example"] {
        let mut entry = message(1, &[DAN], "intruder");
        entry.group_id = group.to_owned();
        let batch = [message(5, &[DAN], "m5"), entry];
        let refused = store.apply_fanout(OWNER, &batch, at(10)).await;
        assert!(
            matches!(refused, Err(StorageError::InvalidRequest(_))),
            "{refused:?}"
        );
        assert_eq!(db.fanout_rows().await, before);
    }
    // Nor is one owner's replica filled by another.
    store
        .apply_fanout(OWNER, &[message(5, &[DAN], "m5")], at(10))
        .await
        .unwrap();
    let refused = store
        .apply_fanout("c.example", &[message(6, &[DAN], "m6")], at(10))
        .await;
    assert!(matches!(refused, Err(StorageError::InvalidRequest(_))));
    assert_eq!(store.log_len(GROUP).await.unwrap(), 1);
}

async fn concurrent_fanouts_of_one_group_apply_once(db: TestDb) {
    let batch: Vec<ReplicaEntry> = (1..=50)
        .map(|seq| message(seq, &[DAN, ERIN], &format!("m{seq}")))
        .collect();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = db.store.clone();
        let batch = batch.clone();
        tasks.push(tokio::spawn(async move {
            store.apply_fanout(OWNER, &batch, at(10)).await.unwrap()
        }));
    }
    let mut applied = 0;
    let mut duplicates = 0;
    for task in tasks {
        let outcome = task.await.unwrap();
        applied += outcome.applied;
        duplicates += outcome.duplicates;
    }
    assert_eq!((applied, duplicates), (50, 150));
    assert_eq!(db.store.log_len(GROUP).await.unwrap(), 50);
    assert_eq!(db.rows("memberships").await, 2);
    assert_eq!(log_of(&db.store, DAN).await.len(), 50);
}
