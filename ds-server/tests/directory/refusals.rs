//! Publications that are refused as a whole, with `InvalidKeyPackage`, and
//! store nothing: another client's key package, a key package naming the
//! publisher but signed by another key, a batch with one bad package, a
//! package in the wrong pool, two last-resort packages for one pool, an
//! empty batch, bytes that are no key package.

use ds_core::wire::{DsErrorCode, KeyPackageKind, KeyPackageUpload};

use crate::common::Client;
use crate::fixture::{ALICE, BOB_PHONE, Fixture};
use crate::packages::{Recipe, forged_key_package, key_package, upload};
use crate::queue::{count, publish};
use crate::support::{TestDb, on_both_backends};

const REGULAR: KeyPackageKind = KeyPackageKind::Regular;
const CONNECTION: KeyPackageKind = KeyPackageKind::Connection;

/// Publishes `uploads` as `client`, which must be refused with a detail
/// mentioning `detail`, leaving the directory as it was.
async fn assert_refused(
    f: &Fixture,
    client: &Client,
    uploads: Vec<KeyPackageUpload>,
    detail: &str,
) {
    let before = f.stored().await;
    let error = publish(&f.server, client, uploads)
        .await
        .expect_err("the publication must be refused");
    assert_eq!(error.code, DsErrorCode::InvalidKeyPackage, "{error}");
    assert!(
        error.detail().contains(detail),
        "detail {:?} should mention {detail:?}",
        error.detail()
    );
    assert_eq!(
        f.stored().await,
        before,
        "a refused publication stores nothing"
    );
    assert_eq!(count(&f.server, client, REGULAR).await, 0);
    assert_eq!(count(&f.server, client, CONNECTION).await, 0);
}

async fn packages_of_another_client_are_refused(db: TestDb) {
    let f = Fixture::start(db).await;
    let alice = f.client(ALICE).await;
    let bob = f.client(BOB_PHONE).await;

    // Bob publishes a genuine key package of alice's as his own.
    let alices = key_package(&alice, Recipe::REGULAR);
    assert_refused(
        &f,
        &bob,
        vec![upload(REGULAR, alices)],
        "names alice@ds-a.example/laptop, not the publishing client bob@ds-a.example/phone",
    )
    .await;

    // Someone builds a package naming bob with a key bob never registered,
    // and gets bob to publish it (or bob's key was replaced locally).
    assert_refused(
        &f,
        &bob,
        vec![upload(REGULAR, forged_key_package(&bob))],
        "is not the key bob@ds-a.example/phone registered",
    )
    .await;
    f.stop().await;
}

async fn one_bad_package_refuses_the_batch(db: TestDb) {
    let f = Fixture::start(db).await;
    let bob = f.client(BOB_PHONE).await;
    let batch = vec![
        upload(REGULAR, key_package(&bob, Recipe::REGULAR)),
        upload(REGULAR, forged_key_package(&bob)),
        upload(REGULAR, key_package(&bob, Recipe::LAST_RESORT)),
    ];
    assert_refused(&f, &bob, batch, "key package 1: ").await;

    let mut broken = key_package(&bob, Recipe::REGULAR);
    let last = broken.len() - 1;
    broken[last] ^= 0x01;
    let batch = vec![
        upload(REGULAR, key_package(&bob, Recipe::REGULAR)),
        upload(REGULAR, broken),
    ];
    assert_refused(
        &f,
        &bob,
        batch,
        "key package 1: the key package is not valid",
    )
    .await;

    let batch = vec![upload(REGULAR, b"\x00\x01not a key package".to_vec())];
    assert_refused(&f, &bob, batch, "key package 0: ").await;
    f.stop().await;
}

async fn packages_in_the_wrong_pool_are_refused(db: TestDb) {
    let f = Fixture::start(db).await;
    let bob = f.client(BOB_PHONE).await;
    assert_refused(
        &f,
        &bob,
        vec![upload(CONNECTION, key_package(&bob, Recipe::REGULAR))],
        "must carry extension 0xf0a1",
    )
    .await;
    assert_refused(
        &f,
        &bob,
        vec![upload(REGULAR, key_package(&bob, Recipe::CONNECTION))],
        "must not carry the connection extension",
    )
    .await;

    // At most one last-resort package per pool in a batch.
    let batch = vec![
        upload(REGULAR, key_package(&bob, Recipe::LAST_RESORT)),
        upload(REGULAR, key_package(&bob, Recipe::LAST_RESORT)),
    ];
    assert_refused(
        &f,
        &bob,
        batch,
        "2 last-resort key packages for the regular pool",
    )
    .await;
    assert_refused(&f, &bob, Vec::new(), "holds no key packages").await;

    // One last-resort package per pool is fine.
    let connection_last_resort = Recipe {
        last_resort: true,
        ..Recipe::CONNECTION
    };
    let batch = vec![
        upload(REGULAR, key_package(&bob, Recipe::LAST_RESORT)),
        upload(CONNECTION, key_package(&bob, connection_last_resort)),
    ];
    assert_eq!(publish(&f.server, &bob, batch).await.unwrap(), 0);
    assert_eq!(f.stored().await, 2);
    f.stop().await;
}

on_both_backends!(
    packages_of_another_client_are_refused,
    one_bad_package_refuses_the_batch,
    packages_in_the_wrong_pool_are_refused,
);
