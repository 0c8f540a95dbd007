//! The served bytes are usable: alice fetches bob's published key package
//! from the directory (a regular one for a regular group, a connection one
//! for a connection group), adds him with it, and bob joins from the Welcome
//! in his queue and reads alice's message, all over the network.

use ds_core::group::Outcome;
use ds_core::wire::{
    Bytes, DsRequest, DsRequestBody, DsResponseBody, GroupKind, KeyPackageKind, SendMessageRequest,
};
use openmls::prelude::Extensions;

use crate::common::{self, Client, Received, add_request};
use crate::fixture::{ALICE, BOB, BOB_PHONE, Fixture};
use crate::net::{ok, post_blocking};
use crate::packages::{Recipe, fetch, fetch_connection, key_package, open, served, upload};
use crate::queue::{publish, sync};
use crate::support::{TestDb, on_both_backends};

/// Bob publishes a key package into `pool`; alice creates a group of `kind`,
/// fetches bob's package with `fetch_request`, adds him, and both end up in
/// the same epoch with a working message channel.
async fn join_with_fetched(
    f: &Fixture,
    kind: GroupKind,
    pool: KeyPackageKind,
    fetch_request: DsRequest,
) {
    let mut alice = f.client(ALICE).await;
    let mut bob = f.client(BOB_PHONE).await;
    let recipe = match pool {
        KeyPackageKind::Regular => Recipe::REGULAR,
        KeyPackageKind::Connection => Recipe::CONNECTION,
    };
    let published = key_package(&bob, recipe);
    let answered = publish(&f.server, &bob, vec![upload(pool, published.clone())]).await;
    assert_eq!(answered.unwrap(), 1);

    // Alice's group, on a group id the DS allocated.
    let DsResponseBody::GroupId(gid) =
        ok(&f.server, &common::anonymous(DsRequestBody::RequestGroupId)).await
    else {
        panic!("request_group_id did not answer with a group id")
    };
    let extensions = Extensions::single(f.ds.external_senders()).unwrap();
    let mut create = alice.create_group_with(gid.as_str(), extensions);
    create.group_kind = kind;
    let created = ok(
        &f.server,
        &common::anonymous(DsRequestBody::CreateGroup(create)),
    )
    .await;
    assert_eq!(created, DsResponseBody::Ok);

    // Alice fetches bob's key package from the directory and adds him.
    let fetched = match ok(&f.server, &fetch_request).await {
        DsResponseBody::KeyPackages(answer) | DsResponseBody::ConnectionKeyPackages(answer) => {
            served(&answer)
        }
        other => panic!("expected key packages, got {other:?}"),
    };
    assert_eq!(fetched, vec![published]);
    let key_package = open(&fetched[0]);
    let (update, welcome) = alice.commit_with(|cb| cb.propose_adds(vec![key_package]));
    let welcome = welcome.expect("an add commit comes with a Welcome");
    let add = add_request(update, vec![welcome.clone()]);
    let added = ok(&f.server, &alice.signed(DsRequestBody::AddUsers(add))).await;
    assert_eq!(added, DsResponseBody::Ok);
    alice.merge();

    // Bob finds the Welcome in his queue and joins with the key package's
    // private keys, fetching the tree over the network.
    let page = sync(&f.server, &bob).await;
    let inbox = page.inbox.as_slice();
    assert_eq!(inbox.len(), 1, "exactly the Welcome");
    assert_eq!(inbox[0].message.as_slice(), welcome.as_slice());
    bob.join(
        inbox[0].message.as_slice(),
        &gid,
        |request| match post_blocking(&f.server, request) {
            DsResponseBody::Error(e) => Err(e),
            response => Ok(Outcome {
                response,
                effects: vec![],
                state_changed: false,
            }),
        },
    )
    .unwrap();
    assert_eq!(
        bob.group().epoch_authenticator().as_slice(),
        alice.group().epoch_authenticator().as_slice()
    );
    message_reaches(f, &mut alice, &mut bob).await;
}

/// Alice's message reaches bob through his queue, and he can read it.
async fn message_reaches(f: &Fixture, alice: &mut Client, bob: &mut Client) {
    let text = alice.message(b"welcome, bob");
    let sent = ok(
        &f.server,
        &alice.signed(DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(text.clone()).unwrap(),
        })),
    )
    .await;
    assert_eq!(sent, DsResponseBody::Ok);
    let page = sync(&f.server, bob).await;
    let last = page
        .group_entries
        .as_slice()
        .last()
        .expect("bob's group log");
    assert_eq!(last.message.as_slice(), text.as_slice());
    assert_eq!(
        bob.receive(last.message.as_slice()),
        Received::Application(b"welcome, bob".to_vec())
    );
}

async fn added_member_joins_with_the_fetched_key_package(db: TestDb) {
    let f = Fixture::start(db).await;
    let bob = ds_core::wire::ClientId::new(BOB_PHONE).unwrap();
    let request = fetch(&[&bob]);
    join_with_fetched(&f, GroupKind::Regular, KeyPackageKind::Regular, request).await;
    f.stop().await;
}

async fn connection_group_joins_with_a_connection_key_package(db: TestDb) {
    let f = Fixture::start(db).await;
    let request = fetch_connection(BOB);
    join_with_fetched(
        &f,
        GroupKind::Connection,
        KeyPackageKind::Connection,
        request,
    )
    .await;
    f.stop().await;
}

on_both_backends!(
    added_member_joins_with_the_fetched_key_package,
    connection_group_joins_with_a_connection_key_package,
);
