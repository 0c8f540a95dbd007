//! `append_messages`: gap-free numbering, per-item epoch checks, and a cost
//! that does not depend on the group's size.

use std::collections::BTreeSet;

use ds_server::storage::{AppendMessage, AppendRejected, NewOutboxEntry};

use crate::support::{TestDb, at, commit, create_group, on_both_backends};

on_both_backends!(
    concurrent_appends_get_gap_free_numbers,
    a_batch_reports_each_message_on_its_own,
    a_message_to_a_thousand_members_adds_one_row,
    appends_for_an_old_epoch_are_refused_after_a_commit,
);

const ALICE: &str = "alice@a.example/1";

fn message(group: &str, epoch: u64, body: &str) -> AppendMessage {
    AppendMessage {
        group_id: group.to_owned(),
        expected_epoch: epoch,
        sender: ALICE.to_owned(),
        message: body.as_bytes().to_vec(),
        outbox: Vec::new(),
    }
}

async fn concurrent_appends_get_gap_free_numbers(db: TestDb) {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 200;
    let group = "busy@a.example";
    let row = create_group(&db.store, group, &[ALICE]).await;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = db.store.clone();
        let epoch = row.epoch;
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..PER_TASK {
                let result = store
                    .append_messages(&[message(group, epoch, &format!("{task}-{i}"))], at(1))
                    .await
                    .unwrap();
                let [Ok(seq)] = result[..] else {
                    panic!("append refused: {result:?}");
                };
                seqs.push(seq);
            }
            seqs
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        let seqs = task.await.unwrap();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "one sender's messages keep their order"
        );
        for seq in seqs {
            assert!(all.insert(seq), "sequence number {seq} handed out twice");
        }
    }
    let expected: BTreeSet<u64> = (1..=TASKS * PER_TASK).collect();
    assert_eq!(all, expected);
    assert_eq!(db.store.log_len(group).await.unwrap(), TASKS * PER_TASK);
    assert_eq!(
        db.store.load_group(group).await.unwrap().unwrap().next_seq,
        TASKS * PER_TASK + 1
    );

    // The stored log agrees: every number once, with the message it was given.
    let page = db
        .store
        .sync(ALICE, &Default::default(), 2_000)
        .await
        .unwrap();
    let stored: Vec<u64> = page.group_entries.iter().map(|e| e.seq).collect();
    assert_eq!(stored, (1..=TASKS * PER_TASK).collect::<Vec<_>>());
    assert!(!page.has_more);
}

async fn a_batch_reports_each_message_on_its_own(db: TestDb) {
    let store = &db.store;
    let a = create_group(store, "a@a.example", &[ALICE]).await;
    let b = create_group(store, "b@a.example", &[ALICE]).await;
    let batch = [
        message("b@a.example", b.epoch, "b1"),
        message("a@a.example", a.epoch, "a1"),
        message("b@a.example", b.epoch + 1, "stale"),
        message("missing@a.example", 1, "lost"),
        message("a@a.example", a.epoch, "a2"),
        message("b@a.example", b.epoch, "b2"),
    ];
    let results = store.append_messages(&batch, at(1)).await.unwrap();
    assert_eq!(
        results,
        vec![
            Ok(1),
            Ok(1),
            Err(AppendRejected::EpochConflict),
            Err(AppendRejected::GroupNotFound),
            Ok(2),
            Ok(2),
        ]
    );
    let page = store.sync(ALICE, &Default::default(), 10).await.unwrap();
    let got: Vec<(&str, u64, &[u8])> = page
        .group_entries
        .iter()
        .map(|e| (e.group_id.as_str(), e.seq, &e.message[..]))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a@a.example", 1, &b"a1"[..]),
            ("a@a.example", 2, &b"a2"[..]),
            ("b@a.example", 1, &b"b1"[..]),
            ("b@a.example", 2, &b"b2"[..]),
        ]
    );
    assert!(store.append_messages(&[], at(1)).await.unwrap().is_empty());
}

async fn a_message_to_a_thousand_members_adds_one_row(db: TestDb) {
    let store = &db.store;
    let members: Vec<String> = (0..1000).map(|i| format!("user{i}@a.example/1")).collect();
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let row = create_group(store, "big@a.example", &member_refs).await;
    assert_eq!(db.rows("memberships").await, 1000);

    let before = db.all_rows().await;
    let result = store
        .append_messages(
            &[message("big@a.example", row.epoch, "hello everyone")],
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(result, vec![Ok(1)]);
    let after = db.all_rows().await;
    for ((table, was), (_, is)) in before.iter().zip(&after) {
        let expected = if *table == "group_log" { was + 1 } else { *was };
        assert_eq!(*is, expected, "rows in {table}");
    }

    // With members on two other domains: one outbox row per domain, still no
    // row per recipient.
    let mut fanned_out = message("big@a.example", row.epoch, "hello federation");
    fanned_out.outbox = ["b.example", "c.example"]
        .map(|domain| NewOutboxEntry {
            destination: domain.to_owned(),
            entry_index: 0,
            payload: b"hello federation".to_vec(),
        })
        .to_vec();
    store.append_messages(&[fanned_out], at(2)).await.unwrap();
    let last = db.all_rows().await;
    for ((table, was), (_, is)) in after.iter().zip(&last) {
        let added = match *table {
            "group_log" => 1,
            "outbox" => 2,
            _ => 0,
        };
        assert_eq!(*is, was + added, "rows in {table}");
    }
    // Every member can read it.
    let page = store
        .sync("user999@a.example/1", &Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(page.group_entries.len(), 2);
}

async fn appends_for_an_old_epoch_are_refused_after_a_commit(db: TestDb) {
    let store = &db.store;
    let group = "g@a.example";
    let row = create_group(store, group, &[ALICE]).await;
    store
        .commit_group_change(&commit(group, &row, ALICE), at(1))
        .await
        .unwrap();
    let results = store
        .append_messages(
            &[
                message(group, row.epoch, "old"),
                message(group, row.epoch + 1, "new"),
            ],
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(results, vec![Err(AppendRejected::EpochConflict), Ok(2)]);
    assert_eq!(store.log_len(group).await.unwrap(), 2);
}
