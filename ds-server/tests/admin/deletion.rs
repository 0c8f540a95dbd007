//! Deleting a client or a user through the admin listener: the DS proposes
//! the removal in each group (a DS-signed Remove in the log), a member's
//! next commit carries it out by reference, and the registration is gone.
//! A commit that leaves the proposal out makes the DS propose it again.

use ds_server::storage::Timestamp;
use http::{Method, StatusCode};
use openmls::prelude::LeafNodeIndex;

use crate::common::Received;
use crate::group::{ALICE, BOB, CAROL, Conversation, pending_ds_removals, stored_roster};
use crate::server::Server;
use crate::support::{TestDb, on_both_backends};

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

async fn deleting_a_client_removes_it_from_its_groups(db: TestDb) {
    let store = &db.store;
    let server = Server::plain(store.clone()).await;
    let mut conv = Conversation::start(&server, store, Timestamp::now()).await;
    let carol_leaf = LeafNodeIndex::new(conv.carol.leaf_index());

    // Refusals change nothing.
    let rows = db.all_rows().await;
    for (method, path, status) in [
        (
            Method::DELETE,
            "/admin/v1/clients/nobody@ds-a.example/x",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::DELETE,
            "/admin/v1/clients/not-a-client-id",
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            "/admin/v1/clients/carol%zz",
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::DELETE,
            "/admin/v1/users/nobody@ds-a.example",
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/admin/v1/clients/carol@ds-a.example/tablet",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (Method::POST, "/admin/v1/nothing", StatusCode::NOT_FOUND),
    ] {
        let answer = server.admin(method.clone(), path).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        assert!(!answer.body.trim().is_empty(), "{method} {path}: no reason");
    }
    assert_eq!(db.all_rows().await, rows);

    // Delete carol; the '/' of her id percent-encoded, as some clients send it.
    let answer = server
        .admin(
            Method::DELETE,
            "/admin/v1/clients/carol@ds-a.example%2Ftablet",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = json(&answer.body);
    assert_eq!(report["deleted"][0]["client_id"], CAROL);
    assert_eq!(
        report["deleted"][0]["removal_proposed_in"],
        serde_json::json!([conv.gid.as_str()])
    );
    assert_eq!(
        report["deleted"][0]["removal_failed_in"],
        serde_json::json!([])
    );
    assert_eq!(store.client(CAROL).await.unwrap(), None);
    assert!(store.groups_of_client(CAROL).await.unwrap().is_empty());

    // The group log got one DS message: the Remove proposal.
    let entries = conv.unseen(store, ALICE, ALICE).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].sender, None, "the DS is the sender");
    for member in [ALICE, BOB] {
        assert_eq!(
            conv.catch_up(store, member, member).await,
            vec![Received::Proposal]
        );
        assert_eq!(pending_ds_removals(conv.member(member)), vec![carol_leaf]);
    }

    // Deleting again: carol is no longer registered.
    let again = server
        .admin(Method::DELETE, &format!("/admin/v1/clients/{CAROL}"))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);

    // Alice's update includes the proposal by reference; the DS accepts it.
    conv.commit_update(&server, store, ALICE, true).await;
    assert_eq!(conv.catch_up(store, BOB, BOB).await, vec![Received::Commit]);
    assert_eq!(stored_roster(store, &conv.gid).await, vec![ALICE, BOB]);
    assert_eq!(conv.alice.group().members().count(), 2);
    assert_eq!(conv.bob.group().epoch(), conv.alice.group().epoch());
    // Carol is gone: the DS has nothing more to propose.
    assert!(conv.unseen(store, ALICE, ALICE).await.is_empty());
    assert_eq!(server.service.status().await.unwrap().registered_clients, 2);

    server.stop().await;
}

async fn a_removal_left_out_of_a_commit_is_proposed_again(db: TestDb) {
    let store = &db.store;
    let server = Server::plain(store.clone()).await;
    let mut conv = Conversation::start(&server, store, Timestamp::now()).await;
    let carol_leaf = LeafNodeIndex::new(conv.carol.leaf_index());

    // Deleting the user deletes its one client.
    let answer = server
        .admin(Method::DELETE, "/admin/v1/users/carol@ds-a.example")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report = json(&answer.body);
    assert_eq!(report["deleted"].as_array().unwrap().len(), 1);
    assert_eq!(report["deleted"][0]["client_id"], CAROL);
    assert_eq!(store.client(CAROL).await.unwrap(), None);
    assert_eq!(store.client(ALICE).await.unwrap().unwrap().client_id, ALICE);
    for member in [ALICE, BOB] {
        assert_eq!(
            conv.catch_up(store, member, member).await,
            vec![Received::Proposal]
        );
    }

    // Bob commits without the proposal. The DS takes the commit and, in
    // the new epoch, proposes carol's removal again.
    let epoch = conv.bob.group().epoch().as_u64();
    conv.commit_update(&server, store, BOB, false).await;
    assert_eq!(conv.bob.group().epoch().as_u64(), epoch + 1);
    assert!(pending_ds_removals(&conv.bob).is_empty());
    let entries = conv.unseen(store, ALICE, ALICE).await;
    assert_eq!(
        entries
            .iter()
            .map(|e| e.sender.as_deref())
            .collect::<Vec<_>>(),
        vec![Some(BOB), None],
        "bob's commit, then the DS's new proposal"
    );
    assert_eq!(
        conv.catch_up(store, ALICE, ALICE).await,
        vec![Received::Commit, Received::Proposal]
    );
    assert_eq!(
        conv.catch_up(store, BOB, BOB).await,
        vec![Received::Proposal]
    );
    for member in [ALICE, BOB] {
        assert_eq!(pending_ds_removals(conv.member(member)), vec![carol_leaf]);
    }
    assert_eq!(
        stored_roster(store, &conv.gid).await,
        vec![ALICE, BOB, CAROL]
    );

    // Alice's commit carries it out.
    conv.commit_update(&server, store, ALICE, true).await;
    assert_eq!(conv.catch_up(store, BOB, BOB).await, vec![Received::Commit]);
    assert_eq!(stored_roster(store, &conv.gid).await, vec![ALICE, BOB]);
    assert!(conv.unseen(store, ALICE, ALICE).await.is_empty());

    server.stop().await;
}

on_both_backends!(
    deleting_a_client_removes_it_from_its_groups,
    a_removal_left_out_of_a_commit_is_proposed_again,
);
