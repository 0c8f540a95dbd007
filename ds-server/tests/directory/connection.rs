//! The connection pool: kept apart from the regular one and served per user
//! by `ds_connection_key_packages`, one package for each of the user's
//! clients that has one.

use ds_core::wire::{DsErrorCode, DsResponseBody, KeyPackageKind};

use crate::fixture::{ALICE, BOB, BOB_LAPTOP, BOB_PHONE, BOB_TABLET, Fixture};
use crate::net::{ok, refused};
use crate::packages::{
    Recipe, fetch, fetch_connection, is_connection, key_package, served, upload,
};
use crate::queue::{count, publish};
use crate::support::{TestDb, on_both_backends};

const CONNECTION: KeyPackageKind = KeyPackageKind::Connection;

async fn connection_packages(f: &Fixture, user: &str) -> Vec<Vec<u8>> {
    match ok(&f.server, &fetch_connection(user)).await {
        DsResponseBody::ConnectionKeyPackages(answer) => served(&answer),
        other => panic!("expected connection key packages, got {other:?}"),
    }
}

async fn connection_pool_is_kept_apart(db: TestDb) {
    let f = Fixture::start(db).await;
    let phone = f.client(BOB_PHONE).await;
    let laptop = f.client(BOB_LAPTOP).await;
    let _tablet = f.client(BOB_TABLET).await; // publishes nothing
    let _alice = f.client(ALICE).await; // another user's client

    // A user with clients but no connection package at all.
    let none = refused(&f.server, &fetch_connection(BOB)).await;
    assert_eq!(none.code, DsErrorCode::NoKeyPackage, "{none}");

    let phone_connection = key_package(&phone, Recipe::CONNECTION);
    let phone_regular = key_package(&phone, Recipe::REGULAR);
    let batch = vec![
        upload(CONNECTION, phone_connection.clone()),
        upload(KeyPackageKind::Regular, phone_regular.clone()),
    ];
    assert_eq!(
        publish(&f.server, &phone, batch).await.unwrap(),
        1,
        "the count of the first upload's pool"
    );
    assert_eq!(count(&f.server, &phone, CONNECTION).await, 1);
    assert_eq!(count(&f.server, &phone, KeyPackageKind::Regular).await, 1);
    let laptop_last_resort = key_package(
        &laptop,
        Recipe {
            last_resort: true,
            ..Recipe::CONNECTION
        },
    );
    let answered = publish(
        &f.server,
        &laptop,
        vec![upload(CONNECTION, laptop_last_resort.clone())],
    );
    assert_eq!(answered.await.unwrap(), 0);

    // One per client that has one, in client-id order (laptop, phone);
    // the tablet is left out.
    let first = connection_packages(&f, BOB).await;
    assert_eq!(
        first,
        vec![laptop_last_resort.clone(), phone_connection.clone()]
    );
    assert!(first.iter().all(|kp| is_connection(kp)));
    assert_eq!(count(&f.server, &phone, CONNECTION).await, 0);

    // The phone's connection package is consumed, the laptop's last-resort
    // one is not; the regular pool was not touched.
    let second = connection_packages(&f, BOB).await;
    assert_eq!(second, vec![laptop_last_resort]);
    assert_eq!(count(&f.server, &phone, KeyPackageKind::Regular).await, 1);

    // ds_key_packages never serves a connection package: the phone's
    // regular one, then nothing (its connection pool is empty anyway, and
    // the laptop has only a connection package).
    let DsResponseBody::KeyPackages(regular) = ok(&f.server, &fetch(&[&phone.id])).await else {
        panic!("ds_key_packages did not answer with key packages")
    };
    assert_eq!(served(&regular), vec![phone_regular]);
    let laptop_regular = refused(&f.server, &fetch(&[&laptop.id])).await;
    assert_eq!(
        laptop_regular.code,
        DsErrorCode::NoKeyPackage,
        "{laptop_regular}"
    );
    f.stop().await;
}

async fn connection_packages_of_unknown_users_are_refused(db: TestDb) {
    let f = Fixture::start(db).await;
    let alice = f.client(ALICE).await;
    let kp = key_package(&alice, Recipe::CONNECTION);
    publish(&f.server, &alice, vec![upload(CONNECTION, kp)])
        .await
        .unwrap();

    // No client registered for the user; a user of another domain; a user
    // whose id matches alice's only as a LIKE pattern (`_` is a wildcard).
    for user in [
        "carol@ds-a.example",
        "alice@ds-b.example",
        "a_ice@ds-a.example",
    ] {
        let error = refused(&f.server, &fetch_connection(user)).await;
        assert_eq!(error.code, DsErrorCode::UnknownClient, "{user}: {error}");
    }
    assert_eq!(f.stored().await, 1, "a refused fetch consumes nothing");
    assert_eq!(connection_packages(&f, "alice@ds-a.example").await.len(), 1);
    f.stop().await;
}

on_both_backends!(
    connection_pool_is_kept_apart,
    connection_packages_of_unknown_users_are_refused,
);
