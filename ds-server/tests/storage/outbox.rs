//! The federation outbox: per-destination order, exact log numbers, deletion,
//! backlog, delivery leases and dead letters.

use std::time::Duration;

use ds_server::storage::{AppendMessage, NewOutboxEntry, OutboxBacklog, StorageError};

use crate::support::{TestDb, at, commit, create_group, entry, on_both_backends};

on_both_backends!(
    outbox_keeps_order_per_destination_until_acknowledged,
    each_row_keeps_the_number_of_its_own_entry,
    a_row_for_an_entry_not_written_is_refused,
    backlog_counts_per_destination_since_the_oldest,
    one_holder_at_a_time_until_the_lease_expires,
    a_dead_letter_leaves_the_outbox_with_its_reason,
);

const ALICE: &str = "alice@a.example/1";

fn to(destination: &str, payload: &str) -> NewOutboxEntry {
    to_entry(destination, 0, payload)
}

fn to_entry(destination: &str, entry_index: usize, payload: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        destination: destination.to_owned(),
        entry_index,
        payload: payload.as_bytes().to_vec(),
    }
}

fn message(group: &str, epoch: u64, body: &str, outbox: Vec<NewOutboxEntry>) -> AppendMessage {
    AppendMessage {
        group_id: group.to_owned(),
        expected_epoch: epoch,
        sender: ALICE.to_owned(),
        message: body.as_bytes().to_vec(),
        outbox,
    }
}

async fn outbox_keeps_order_per_destination_until_acknowledged(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    let mut change = commit(g, &row, ALICE);
    change.outbox = vec![to("b.example", "commit"), to("c.example", "commit")];
    store.commit_group_change(&change, at(1)).await.unwrap();
    for body in ["m1", "m2"] {
        let m = message(g, row.epoch + 1, body, vec![to("b.example", body)]);
        store.append_messages(&[m], at(2)).await.unwrap();
    }

    assert_eq!(store.outbox_depth().await.unwrap(), 4);
    assert_eq!(
        store.outbox_destinations().await.unwrap(),
        vec!["b.example", "c.example"]
    );
    let b = store.outbox_pending("b.example", 10).await.unwrap();
    let got: Vec<(&[u8], Option<u64>)> = b.iter().map(|e| (&e.payload[..], e.seq)).collect();
    assert_eq!(
        got,
        vec![
            (&b"commit"[..], Some(1)),
            (&b"m1"[..], Some(2)),
            (&b"m2"[..], Some(3))
        ]
    );
    assert!(b.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        b.iter()
            .all(|e| e.destination == "b.example" && e.group_id.as_deref() == Some(g))
    );
    assert_eq!(store.outbox_pending("b.example", 2).await.unwrap(), b[..2]);

    // Acknowledged ones go; a repeated acknowledgement is harmless.
    assert_eq!(store.outbox_delete(&[b[0].id, b[1].id]).await.unwrap(), 2);
    assert_eq!(store.outbox_delete(&[b[0].id]).await.unwrap(), 0);
    assert_eq!(store.outbox_pending("b.example", 10).await.unwrap(), b[2..]);
    assert_eq!(store.outbox_depth().await.unwrap(), 2);
    assert!(
        store
            .outbox_pending("nowhere.example", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A commit followed by the DS's own proposals in one transaction: every
/// row carries the number of the entry it belongs to, a Welcome the commit's.
async fn each_row_keeps_the_number_of_its_own_entry(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    let mut change = commit(g, &row, ALICE);
    change.entries = vec![
        entry(ALICE, "commit"),
        entry(ALICE, "proposal-1"),
        entry(ALICE, "proposal-2"),
    ];
    change.outbox = vec![
        to_entry("b.example", 0, "commit"),
        to_entry("b.example", 0, "welcome"),
        to_entry("b.example", 1, "proposal-1"),
        to_entry("b.example", 2, "proposal-2"),
    ];
    let result = store.commit_group_change(&change, at(1)).await.unwrap();
    assert_eq!(result.entry_seqs, vec![1, 2, 3]);
    // Application messages in one batch get their own numbers too.
    let batch = [
        message(g, row.epoch + 1, "m1", vec![to("b.example", "m1")]),
        message(g, row.epoch + 1, "m2", vec![to("b.example", "m2")]),
    ];
    store.append_messages(&batch, at(2)).await.unwrap();

    let pending = store.outbox_pending("b.example", 10).await.unwrap();
    let got: Vec<(&[u8], Option<u64>)> = pending.iter().map(|e| (&e.payload[..], e.seq)).collect();
    assert_eq!(
        got,
        vec![
            (&b"commit"[..], Some(1)),
            (&b"welcome"[..], Some(1)),
            (&b"proposal-1"[..], Some(2)),
            (&b"proposal-2"[..], Some(3)),
            (&b"m1"[..], Some(4)),
            (&b"m2"[..], Some(5)),
        ]
    );
}

async fn a_row_for_an_entry_not_written_is_refused(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    let before = db.all_rows().await;
    let mut change = commit(g, &row, ALICE);
    change.outbox = vec![to_entry("b.example", 1, "nothing at index 1")];
    assert!(matches!(
        store.commit_group_change(&change, at(1)).await,
        Err(StorageError::InvalidRequest(_))
    ));
    let m = message(g, row.epoch, "m", vec![to_entry("b.example", 1, "m")]);
    assert!(matches!(
        store.append_messages(&[m], at(1)).await,
        Err(StorageError::InvalidRequest(_))
    ));
    assert_eq!(db.all_rows().await, before);
}

async fn backlog_counts_per_destination_since_the_oldest(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    assert!(store.outbox_backlog().await.unwrap().is_empty());
    for (t, body, to_c) in [(10, "m1", true), (20, "m2", false), (30, "m3", false)] {
        let mut outbox = vec![to("b.example", body)];
        if to_c {
            outbox.push(to("c.example", body));
        }
        let m = message(g, row.epoch, body, outbox);
        store.append_messages(&[m], at(t)).await.unwrap();
    }
    let b_first = store.outbox_pending("b.example", 1).await.unwrap();
    store.outbox_delete(&[b_first[0].id]).await.unwrap();
    assert_eq!(
        store.outbox_backlog().await.unwrap(),
        vec![
            OutboxBacklog {
                destination: "b.example".into(),
                depth: 2,
                oldest: at(20)
            },
            OutboxBacklog {
                destination: "c.example".into(),
                depth: 1,
                oldest: at(10)
            },
        ]
    );
}

async fn one_holder_at_a_time_until_the_lease_expires(db: TestDb) {
    let store = &db.store;
    let ttl = Duration::from_secs(10);
    let acquire = |holder: &'static str, t: u64| async move {
        store
            .outbox_lease_acquire("b.example", holder, at(t), ttl)
            .await
            .unwrap()
    };
    assert!(acquire("one", 100).await);
    assert!(!acquire("two", 105).await, "held by another");
    assert!(acquire("one", 105).await, "the holder renews");
    assert!(!acquire("two", 115).await, "renewed until 115");
    assert!(acquire("two", 116).await, "expired: taken over");
    assert!(!acquire("one", 117).await);
    // Another destination's lease is separate.
    assert!(
        store
            .outbox_lease_acquire("c.example", "one", at(117), ttl)
            .await
            .unwrap()
    );
    // Only the holder can release.
    store
        .outbox_lease_release("b.example", "one")
        .await
        .unwrap();
    assert!(!acquire("one", 118).await);
    store
        .outbox_lease_release("b.example", "two")
        .await
        .unwrap();
    assert!(acquire("one", 118).await, "free after release");

    // Racing for a free lease: exactly one wins.
    let racers = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .outbox_lease_acquire("d.example", &format!("racer-{i}"), at(200), ttl)
                .await
                .unwrap()
        })
    });
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1);
}

async fn a_dead_letter_leaves_the_outbox_with_its_reason(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    for body in ["m1", "m2"] {
        let m = message(g, row.epoch, body, vec![to("b.example", body)]);
        store.append_messages(&[m], at(5)).await.unwrap();
    }
    let pending = store.outbox_pending("b.example", 10).await.unwrap();
    assert!(
        store
            .outbox_dead_letter(pending[0].id, "NotLocalRecipient", at(9))
            .await
            .unwrap()
    );
    assert!(
        !store
            .outbox_dead_letter(pending[0].id, "again", at(9))
            .await
            .unwrap(),
        "already moved"
    );
    assert_eq!(
        store.outbox_pending("b.example", 10).await.unwrap(),
        pending[1..]
    );
    let dead = store.outbox_dead_letters("b.example", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(
        (d.id, d.group_id.as_deref(), d.seq, &d.payload[..]),
        (pending[0].id, Some(g), Some(1), &b"m1"[..])
    );
    assert_eq!((d.created_at, d.dropped_at), (at(5), at(9)));
    assert_eq!(d.reason, "NotLocalRecipient");
}
