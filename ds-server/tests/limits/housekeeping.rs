//! The housekeeping task of a running server: at its interval it forgets
//! request nonces older than twice the freshness window (keeping fresh ones)
//! and log entries every member acknowledged (keeping unread ones).

use std::collections::BTreeMap;
use std::time::Duration;

use ds_server::http::Limits;
use ds_server::service::{HousekeepingOptions, ServiceOptions};
use ds_server::storage::{AppendMessage, Cursors, Timestamp};

use crate::server::start_server;
use crate::support::{TestDb, create_group, on_both_backends};

on_both_backends!(old_nonces_and_acknowledged_entries_are_purged);

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const WINDOW: Duration = Duration::from_secs(60);

/// Failure guard: housekeeping runs every 100 ms, so this is many passes.
const GUARD: Duration = Duration::from_secs(20);

async fn append(db: &TestDb, group: &str, count: u8) {
    for i in 0..count {
        let message = AppendMessage {
            group_id: group.to_owned(),
            expected_epoch: 1,
            sender: ALICE.to_owned(),
            message: vec![i],
            outbox: Vec::new(),
        };
        let appended = db
            .store
            .append_messages(&[message], Timestamp::now())
            .await
            .unwrap();
        assert!(appended.iter().all(Result::is_ok));
    }
}

fn upto(group: &str, seq: u64) -> Cursors {
    Cursors {
        groups: BTreeMap::from([(group.to_owned(), seq)]),
        inbox: 0,
    }
}

async fn old_nonces_and_acknowledged_entries_are_purged(db: TestDb) {
    let store = &db.store;
    let now = Timestamp::now();
    // Seen three windows ago: past any request's freshness. Seen a window
    // and a half ago: a request dated one window ahead is still fresh.
    assert!(
        store
            .record_nonce(ALICE, b"old-nonce-0123456", now.saturating_sub(WINDOW * 3))
            .await
            .unwrap()
    );
    assert!(
        store
            .record_nonce(
                ALICE,
                b"kept-nonce-0123456",
                now.saturating_sub(WINDOW * 3 / 2)
            )
            .await
            .unwrap()
    );
    let (read, unread) = ("read@ds-a.example", "unread@ds-a.example");
    create_group(store, read, &[ALICE, BOB]).await;
    create_group(store, unread, &[ALICE, BOB]).await;
    append(&db, read, 3).await;
    append(&db, unread, 3).await;
    for member in [ALICE, BOB] {
        store.ack(member, &upto(read, 3)).await.unwrap();
    }
    store.ack(ALICE, &upto(unread, 3)).await.unwrap();
    assert_eq!(db.rows("request_nonces").await, 2);
    assert_eq!(db.rows("group_log").await, 6);

    let options = ServiceOptions {
        freshness_window: WINDOW,
        housekeeping: HousekeepingOptions {
            interval: Duration::from_millis(100),
            ..HousekeepingOptions::default()
        },
        ..ServiceOptions::default()
    };
    let server = start_server(store.clone(), options, Limits::default()).await;
    let purged = async {
        while db.rows("request_nonces").await != 1 || store.log_len(read).await.unwrap() != 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(GUARD, purged)
        .await
        .expect("housekeeping did not purge");
    // The kept nonce is still a replay; the purged one is free again.
    assert!(
        !store
            .record_nonce(ALICE, b"kept-nonce-0123456", Timestamp::now())
            .await
            .unwrap()
    );
    assert!(
        store
            .record_nonce(ALICE, b"old-nonce-0123456", Timestamp::now())
            .await
            .unwrap()
    );
    // Bob has not read the other group: its entries stay.
    assert_eq!(store.log_len(unread).await.unwrap(), 3);
    server.stop().await;
}
