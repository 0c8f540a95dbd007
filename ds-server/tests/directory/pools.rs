//! The regular pool: published over the queue route, counted, handed out
//! once each (the one expiring first first), then the last-resort package
//! over and over without being consumed.

use ds_core::wire::{DsErrorCode, DsResponseBody, KeyPackageKind};

use crate::fixture::{ALICE, BOB_PHONE, Fixture};
use crate::net::{ok, refused};
use crate::packages::{Recipe, fetch, key_package, open, served, upload};
use crate::queue::{count, publish};
use crate::support::{TestDb, on_both_backends};

const REGULAR: KeyPackageKind = KeyPackageKind::Regular;

/// `ds_key_packages` for bob: the one key package served.
async fn fetch_one(f: &Fixture, bob: &crate::common::Client) -> Vec<u8> {
    let DsResponseBody::KeyPackages(answer) = ok(&f.server, &fetch(&[&bob.id])).await else {
        panic!("ds_key_packages did not answer with key packages")
    };
    let mut served = served(&answer);
    assert_eq!(served.len(), 1);
    served.remove(0)
}

async fn regular_pool_is_consumed_in_expiry_order(db: TestDb) {
    let f = Fixture::start(db).await;
    let _alice = f.client(ALICE).await;
    let bob = f.client(BOB_PHONE).await;
    assert_eq!(count(&f.server, &bob, REGULAR).await, 0);

    // Three packages, published in an order unlike their expiry order.
    let expiring = |seconds| {
        key_package(
            &bob,
            Recipe {
                expires_in: Some(seconds),
                ..Recipe::REGULAR
            },
        )
    };
    let (second, first, third) = (expiring(20_000), expiring(10_000), expiring(30_000));
    let uploads = [&second, &first, &third]
        .map(|kp| upload(REGULAR, kp.clone()))
        .to_vec();
    assert_eq!(publish(&f.server, &bob, uploads).await.unwrap(), 3);
    assert_eq!(count(&f.server, &bob, REGULAR).await, 3);
    assert_eq!(f.stored().await, 3);
    // Nothing in the connection pool.
    assert_eq!(count(&f.server, &bob, KeyPackageKind::Connection).await, 0);

    for (expected, left) in [(&first, 2), (&second, 1), (&third, 0)] {
        let got = fetch_one(&f, &bob).await;
        assert_eq!(&got, expected, "served out of expiry order");
        assert_eq!(count(&f.server, &bob, REGULAR).await, left);
    }
    assert_eq!(f.stored().await, 0, "every served regular package is gone");

    let empty = refused(&f.server, &fetch(&[&bob.id])).await;
    assert_eq!(empty.code, DsErrorCode::NoKeyPackage, "{empty}");

    // Publishing the same package twice stores it once.
    let again = key_package(&bob, Recipe::REGULAR);
    let twice = vec![
        upload(REGULAR, again.clone()),
        upload(REGULAR, again.clone()),
    ];
    assert_eq!(publish(&f.server, &bob, twice).await.unwrap(), 1);
    assert_eq!(fetch_one(&f, &bob).await, again);
    f.stop().await;
}

async fn last_resort_is_served_repeatedly_and_never_consumed(db: TestDb) {
    let f = Fixture::start(db).await;
    let bob = f.client(BOB_PHONE).await;
    let last_resort = key_package(&bob, Recipe::LAST_RESORT);
    let answered = publish(&f.server, &bob, vec![upload(REGULAR, last_resort.clone())]).await;
    assert_eq!(answered.unwrap(), 0, "a last-resort package is not counted");
    assert!(open(&last_resort).last_resort());

    for _ in 0..3 {
        assert_eq!(fetch_one(&f, &bob).await, last_resort);
    }
    assert_eq!(f.stored().await, 1, "the last-resort package stays");

    // A regular package goes first, then the last-resort one again.
    let regular = key_package(&bob, Recipe::REGULAR);
    let answered = publish(&f.server, &bob, vec![upload(REGULAR, regular.clone())]).await;
    assert_eq!(answered.unwrap(), 1);
    assert_eq!(fetch_one(&f, &bob).await, regular);
    assert_eq!(fetch_one(&f, &bob).await, last_resort);

    // A new last-resort package replaces the old one.
    let replacement = key_package(&bob, Recipe::LAST_RESORT);
    let answered = publish(&f.server, &bob, vec![upload(REGULAR, replacement.clone())]).await;
    assert_eq!(answered.unwrap(), 0);
    assert_eq!(f.stored().await, 1);
    assert_eq!(fetch_one(&f, &bob).await, replacement);
    f.stop().await;
}

on_both_backends!(
    regular_pool_is_consumed_in_expiry_order,
    last_resort_is_served_repeatedly_and_never_consumed,
);
