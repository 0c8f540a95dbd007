//! `ds_user_key_packages`: one regular key package per client of a user, so
//! an inviter who knows only `user@domain` can add all of its devices.

use ds_core::wire::{
    DsErrorCode, DsRequest, DsRequestBody, DsResponseBody, UserId, UserKeyPackagesRequest,
};

use crate::common;
use crate::fixture::{ALICE, BOB, BOB_LAPTOP, BOB_PHONE, BOB_TABLET, Fixture};
use crate::net::{ok, refused};
use crate::packages::{Recipe, is_connection, key_package, served, upload};
use crate::queue::{count, publish};
use crate::support::{TestDb, on_both_backends};
use ds_core::wire::KeyPackageKind;

fn fetch_user(user: &str) -> DsRequest {
    common::anonymous(DsRequestBody::UserKeyPackages(UserKeyPackagesRequest {
        user_id: UserId::new(user).unwrap(),
    }))
}

async fn user_packages(f: &Fixture, user: &str) -> Vec<Vec<u8>> {
    match ok(&f.server, &fetch_user(user)).await {
        DsResponseBody::KeyPackages(answer) => served(&answer),
        other => panic!("expected key packages, got {other:?}"),
    }
}

async fn every_client_of_a_user_gets_one_regular_package(db: TestDb) {
    let f = Fixture::start(db).await;
    let phone = f.client(BOB_PHONE).await;
    let laptop = f.client(BOB_LAPTOP).await;
    let _tablet = f.client(BOB_TABLET).await; // publishes nothing
    let alice = f.client(ALICE).await; // another user's client

    // Clients, but no regular key package yet.
    let none = refused(&f.server, &fetch_user(BOB)).await;
    assert_eq!(none.code, DsErrorCode::NoKeyPackage, "{none}");

    let phone_kp = key_package(&phone, Recipe::REGULAR);
    let phone_connection = key_package(&phone, Recipe::CONNECTION);
    publish(
        &f.server,
        &phone,
        vec![
            upload(KeyPackageKind::Regular, phone_kp.clone()),
            upload(KeyPackageKind::Connection, phone_connection),
        ],
    )
    .await
    .unwrap();
    let laptop_kp = key_package(&laptop, Recipe::REGULAR);
    publish(
        &f.server,
        &laptop,
        vec![upload(KeyPackageKind::Regular, laptop_kp.clone())],
    )
    .await
    .unwrap();
    let alice_kp = key_package(&alice, Recipe::REGULAR);
    publish(
        &f.server,
        &alice,
        vec![upload(KeyPackageKind::Regular, alice_kp)],
    )
    .await
    .unwrap();

    // One per client that has one (the tablet has none), never the
    // connection pool, never another user's.
    let mut got = user_packages(&f, BOB).await;
    got.sort();
    let mut expected = vec![phone_kp, laptop_kp];
    expected.sort();
    assert_eq!(got, expected);
    assert!(got.iter().all(|kp| !is_connection(kp)));
    // Regular packages are consumed; the connection pool is untouched.
    assert_eq!(count(&f.server, &phone, KeyPackageKind::Regular).await, 0);
    assert_eq!(
        count(&f.server, &phone, KeyPackageKind::Connection).await,
        1
    );
    let again = refused(&f.server, &fetch_user(BOB)).await;
    assert_eq!(again.code, DsErrorCode::NoKeyPackage, "{again}");

    // Unknown users and users of another domain.
    for user in ["carol@ds-a.example", "bob@ds-b.example"] {
        let error = refused(&f.server, &fetch_user(user)).await;
        assert_eq!(error.code, DsErrorCode::UnknownClient, "{user}: {error}");
    }
    f.stop().await;
}

on_both_backends!(every_client_of_a_user_gets_one_regular_package);
