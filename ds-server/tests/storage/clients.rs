//! Client registration, one-time tokens and replay protection.

use std::collections::BTreeMap;
use std::sync::Arc;

use ds_server::storage::{Cursors, NewInboxEntry, StorageError, StoredKeyPackage};
use tokio::sync::Barrier;

use crate::support::{TestDb, at, create_group, on_both_backends};

on_both_backends!(
    clients_register_once_and_are_found,
    last_seen_moves_forward_and_finds_inactive_clients,
    deleting_a_client_removes_everything_kept_for_it,
    registration_tokens_work_once,
    registering_with_a_token_is_atomic,
    nonces_are_accepted_once,
);

const ALICE: &str = "alice@a.example/1";
const BOB: &str = "bob@a.example/1";

async fn clients_register_once_and_are_found(db: TestDb) {
    let store = &db.store;
    store
        .register_client(ALICE, b"alice-key", at(10))
        .await
        .unwrap();
    assert!(matches!(
        store.register_client(ALICE, b"other-key", at(11)).await,
        Err(StorageError::ClientExists(id)) if id == ALICE
    ));
    let alice = store.client(ALICE).await.unwrap().unwrap();
    assert_eq!(alice.client_id, ALICE);
    assert_eq!(alice.signature_key, b"alice-key", "never silently replaced");
    assert_eq!((alice.registered_at, alice.last_seen), (at(10), at(10)));
    assert!(store.client(BOB).await.unwrap().is_none());
}

async fn last_seen_moves_forward_and_finds_inactive_clients(db: TestDb) {
    let store = &db.store;
    store.register_client(ALICE, b"a", at(10)).await.unwrap();
    store.register_client(BOB, b"b", at(10)).await.unwrap();
    assert!(store.touch_client(ALICE, at(50)).await.unwrap());
    assert!(store.touch_client(ALICE, at(20)).await.unwrap());
    assert!(
        !store
            .touch_client("ghost@a.example/1", at(20))
            .await
            .unwrap()
    );
    assert_eq!(
        store.client(ALICE).await.unwrap().unwrap().last_seen,
        at(50)
    );
    assert_eq!(
        store.clients_inactive_since(at(30)).await.unwrap(),
        vec![BOB]
    );
    assert_eq!(
        store.clients_inactive_since(at(60)).await.unwrap(),
        vec![ALICE, BOB]
    );
    assert!(
        store
            .clients_inactive_since(at(5))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn deleting_a_client_removes_everything_kept_for_it(db: TestDb) {
    let store = &db.store;
    store.register_client(ALICE, b"a", at(1)).await.unwrap();
    store.register_client(BOB, b"b", at(1)).await.unwrap();
    create_group(store, "g@a.example", &[ALICE, BOB]).await;
    let kp = StoredKeyPackage {
        kp_ref: b"r".to_vec(),
        key_package: b"kp".to_vec(),
        connection: false,
        last_resort: false,
        not_after: at(10_000),
    };
    for client in [ALICE, BOB] {
        store
            .publish_key_packages(client, std::slice::from_ref(&kp), at(1))
            .await
            .unwrap();
        store.record_nonce(client, b"n", at(1)).await.unwrap();
        let entry = NewInboxEntry {
            client_id: client.to_owned(),
            message: b"m".to_vec(),
        };
        store.push_inbox(&entry, at(1)).await.unwrap();
        let cursors = Cursors {
            groups: BTreeMap::from([("g@a.example".to_owned(), 0)]),
            inbox: 1,
        };
        store.ack(client, &cursors).await.unwrap();
    }
    let before = db.all_rows().await;

    assert!(store.delete_client(ALICE).await.unwrap());
    assert!(!store.delete_client(ALICE).await.unwrap());
    assert!(store.client(ALICE).await.unwrap().is_none());
    assert_eq!(
        store.current_members("g@a.example").await.unwrap(),
        vec![BOB]
    );
    let after: BTreeMap<_, _> = db.all_rows().await.into_iter().collect();
    for (table, was) in before {
        let per_client_row = matches!(
            table,
            "clients"
                | "key_packages"
                | "request_nonces"
                | "inboxes"
                | "inbox_entries"
                | "memberships"
                | "group_cursors"
        );
        let expected = if per_client_row { was - 1 } else { was };
        assert_eq!(after[table], expected, "rows in {table}");
    }
    // Bob's data is untouched.
    assert_eq!(store.key_package_count(BOB, false, at(1)).await.unwrap(), 1);
}

async fn registration_tokens_work_once(db: TestDb) {
    let store = &db.store;
    assert!(store.create_token(b"hash-1", at(100)).await.unwrap());
    assert!(!store.create_token(b"hash-1", at(200)).await.unwrap());
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, barrier) = (store.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.consume_token(b"hash-1", at(50)).await.unwrap()
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += usize::from(task.await.unwrap());
    }
    assert_eq!(successes, 1, "one-time");
    assert!(!store.consume_token(b"never-made", at(50)).await.unwrap());
    store.create_token(b"hash-2", at(100)).await.unwrap();
    assert!(
        !store.consume_token(b"hash-2", at(100)).await.unwrap(),
        "expired at its expiry time"
    );
}

async fn registering_with_a_token_is_atomic(db: TestDb) {
    let store = &db.store;
    store.register_client(ALICE, b"a", at(1)).await.unwrap();
    store.create_token(b"t", at(100)).await.unwrap();
    assert!(matches!(
        store
            .register_client_with_token(b"t", ALICE, b"x", at(2))
            .await,
        Err(StorageError::ClientExists(_))
    ));
    // The failed registration did not use the token up.
    store
        .register_client_with_token(b"t", BOB, b"b", at(3))
        .await
        .unwrap();
    assert_eq!(
        store.client(BOB).await.unwrap().unwrap().signature_key,
        b"b"
    );
    assert!(matches!(
        store
            .register_client_with_token(b"t", "carol@a.example/1", b"c", at(4))
            .await,
        Err(StorageError::InvalidToken)
    ));
    assert!(store.client("carol@a.example/1").await.unwrap().is_none());
}

async fn nonces_are_accepted_once(db: TestDb) {
    let store = &db.store;
    assert!(store.record_nonce(ALICE, b"n1", at(10)).await.unwrap());
    assert!(
        !store.record_nonce(ALICE, b"n1", at(11)).await.unwrap(),
        "replay"
    );
    assert!(
        store.record_nonce(BOB, b"n1", at(11)).await.unwrap(),
        "nonces are per client"
    );
    assert!(store.record_nonce(ALICE, b"n2", at(20)).await.unwrap());

    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (store, barrier) = (store.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store.record_nonce(ALICE, b"racing", at(21)).await.unwrap()
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap());
    }
    assert_eq!(accepted, 1);

    assert_eq!(store.purge_nonces(at(15)).await.unwrap(), 2);
    assert!(
        store.record_nonce(ALICE, b"n1", at(30)).await.unwrap(),
        "forgotten after the window"
    );
    assert!(
        !store.record_nonce(ALICE, b"n2", at(30)).await.unwrap(),
        "still inside the window"
    );
}
