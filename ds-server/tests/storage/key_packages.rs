//! The key-package directory: consume once, last resort kept, expiry, kinds.

use std::collections::BTreeSet;
use std::sync::Arc;

use ds_server::storage::{StoredKeyPackage, Timestamp};
use tokio::sync::Barrier;

use crate::support::{TestDb, at, on_both_backends};

on_both_backends!(
    concurrent_takers_never_get_the_same_key_package,
    the_last_resort_key_package_is_served_but_never_consumed,
    expired_key_packages_are_never_served,
    connection_key_packages_are_kept_apart_and_counted,
    publishing_replaces_the_last_resort_and_ignores_known_refs,
);

const ALICE: &str = "alice@a.example/1";
const NOW: Timestamp = Timestamp::from_unix_secs(1_000);

fn package(name: &str, connection: bool, last_resort: bool, not_after: u64) -> StoredKeyPackage {
    StoredKeyPackage {
        kp_ref: format!("ref-{name}").into_bytes(),
        key_package: name.as_bytes().to_vec(),
        connection,
        last_resort,
        not_after: at(not_after),
    }
}

async fn concurrent_takers_never_get_the_same_key_package(db: TestDb) {
    const PACKAGES: usize = 40;
    let mut packages: Vec<StoredKeyPackage> = (0..PACKAGES)
        .map(|i| package(&format!("kp{i}"), false, false, 5_000))
        .collect();
    packages.push(package("last", false, true, 5_000));
    assert_eq!(
        db.store
            .publish_key_packages(ALICE, &packages, NOW)
            .await
            .unwrap(),
        41
    );

    let barrier = Arc::new(Barrier::new(2));
    let mut takers = Vec::new();
    for _ in 0..2 {
        let (store, barrier) = (db.store.clone(), Arc::clone(&barrier));
        takers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut got = Vec::new();
            for _ in 0..PACKAGES / 2 {
                got.push(
                    store
                        .take_key_package(ALICE, false, NOW)
                        .await
                        .unwrap()
                        .unwrap(),
                );
            }
            got
        }));
    }
    let mut seen = BTreeSet::new();
    for taker in takers {
        for kp in taker.await.unwrap() {
            assert_ne!(
                kp, b"last",
                "a regular one was left, the last resort must not be served"
            );
            assert!(
                seen.insert(kp.clone()),
                "{} handed out twice",
                String::from_utf8_lossy(&kp)
            );
        }
    }
    assert_eq!(seen.len(), PACKAGES);
    assert_eq!(
        db.store.key_package_count(ALICE, false, NOW).await.unwrap(),
        0
    );
    assert_eq!(
        db.store
            .take_key_package(ALICE, false, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"last"[..])
    );
}

async fn the_last_resort_key_package_is_served_but_never_consumed(db: TestDb) {
    let store = &db.store;
    store
        .publish_key_packages(
            ALICE,
            &[
                package("last", false, true, 5_000),
                package("one", false, false, 5_000),
            ],
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .take_key_package(ALICE, false, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"one"[..])
    );
    for _ in 0..5 {
        assert_eq!(
            store
                .take_key_package(ALICE, false, NOW)
                .await
                .unwrap()
                .as_deref(),
            Some(&b"last"[..])
        );
    }
    assert_eq!(db.rows("key_packages").await, 1);
    assert_eq!(
        store
            .take_key_package("nobody@a.example/1", false, NOW)
            .await
            .unwrap(),
        None
    );
}

async fn expired_key_packages_are_never_served(db: TestDb) {
    let store = &db.store;
    store
        .publish_key_packages(
            ALICE,
            &[
                package("old", false, false, 900),
                package("at-now", false, false, 1_000),
                package("fresh", false, false, 2_000),
                package("old-last", false, true, 999),
            ],
            at(500),
        )
        .await
        .unwrap();
    assert_eq!(store.key_package_count(ALICE, false, NOW).await.unwrap(), 1);
    assert_eq!(
        store
            .take_key_package(ALICE, false, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"fresh"[..])
    );
    // Only expired ones left, the last resort included: nothing to give.
    assert_eq!(
        store.take_key_package(ALICE, false, NOW).await.unwrap(),
        None
    );
    // Earlier, the one expiring first is served first.
    assert_eq!(
        store
            .take_key_package(ALICE, false, at(800))
            .await
            .unwrap()
            .as_deref(),
        Some(&b"old"[..])
    );
}

async fn connection_key_packages_are_kept_apart_and_counted(db: TestDb) {
    let store = &db.store;
    store
        .publish_key_packages(
            ALICE,
            &[
                package("g1", false, false, 5_000),
                package("g2", false, false, 5_000),
                package("c1", true, false, 5_000),
                package("c-last", true, true, 5_000),
            ],
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(store.key_package_count(ALICE, false, NOW).await.unwrap(), 2);
    assert_eq!(store.key_package_count(ALICE, true, NOW).await.unwrap(), 1);
    assert_eq!(
        store
            .take_key_package(ALICE, true, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"c1"[..])
    );
    assert_eq!(
        store
            .take_key_package(ALICE, true, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"c-last"[..])
    );
    assert_eq!(store.key_package_count(ALICE, false, NOW).await.unwrap(), 2);
    let mut group_kps = BTreeSet::new();
    for _ in 0..2 {
        group_kps.insert(
            store
                .take_key_package(ALICE, false, NOW)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    assert_eq!(group_kps, BTreeSet::from([b"g1".to_vec(), b"g2".to_vec()]));
    // No regular group key package and no group last resort: none, even though
    // a connection last resort exists.
    assert_eq!(
        store.take_key_package(ALICE, false, NOW).await.unwrap(),
        None
    );
}

async fn publishing_replaces_the_last_resort_and_ignores_known_refs(db: TestDb) {
    let store = &db.store;
    store
        .publish_key_packages(ALICE, &[package("last-1", false, true, 5_000)], NOW)
        .await
        .unwrap();
    store
        .publish_key_packages(ALICE, &[package("last-2", false, true, 5_000)], NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .take_key_package(ALICE, false, NOW)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"last-2"[..])
    );
    let twice = [
        package("a", false, false, 5_000),
        package("a", false, false, 5_000),
    ];
    assert_eq!(
        store
            .publish_key_packages(ALICE, &twice, NOW)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.key_package_count(ALICE, false, NOW).await.unwrap(), 1);
    // Another client may use the same ref: packages are kept per client.
    assert_eq!(
        store
            .publish_key_packages("bob@a.example/1", &twice[..1], NOW)
            .await
            .unwrap(),
        1
    );
}
