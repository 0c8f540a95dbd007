//! One conversation over HTTP/2 + TLS: a group id, group creation, alice
//! adding bob with a Welcome in his inbox, bob joining with the tree fetched
//! over the network, bob's message in alice's sync, alice's update, bob's
//! stale commit refused, and a garbage body refused without storing anything.

use common::{Client, Ds, add_request, update_request};
use ds_core::group::{EngineContext, Outcome};
use ds_core::wire::{
    Bytes, Domain, DsErrorCode, DsRequestBody, DsResponseBody, SendMessageRequest,
};
use ds_server::http::Limits;
use ds_server::service::DsService;
use ds_server::storage::{Cursors, Store, Timestamp};
use openmls::prelude::Extensions;

use crate::common;
use crate::net::{code, ok, post_blocking, post_raw, refused};
use crate::support::{TestDb, on_both_backends};
use crate::transport::TestServer;

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

async fn register(store: &Store, c: &Client) {
    store
        .register_client(c.id.as_str(), c.signer.public(), Timestamp::now())
        .await
        .unwrap();
}

/// The MLS messages of the group log a client gets from a fresh sync.
async fn group_log(store: &Store, client_id: &str) -> Vec<Vec<u8>> {
    let page = store
        .sync(client_id, &Cursors::default(), 1000)
        .await
        .unwrap();
    assert!(!page.has_more);
    page.group_entries.into_iter().map(|e| e.message).collect()
}

async fn conversation_over_the_network(db: TestDb) {
    let ds = Ds::new();
    let service = DsService::new(ds_ctx(&ds), db.store.clone());
    let server = TestServer::start(service, Limits::default()).await;
    let mut alice = Client::new(ALICE);
    let mut bob = Client::new(BOB);
    register(&db.store, &alice).await;
    register(&db.store, &bob).await;

    // A group id allocated by the server.
    let DsResponseBody::GroupId(gid) =
        ok(&server, &common::anonymous(DsRequestBody::RequestGroupId)).await
    else {
        panic!("request_group_id did not answer with a group id")
    };
    assert_eq!(gid.domain(), common::DOMAIN);

    // Alice creates the group with it.
    let extensions = Extensions::single(ds.external_senders()).unwrap();
    let create = alice.create_group_with(gid.as_str(), extensions);
    let created = ok(
        &server,
        &common::anonymous(DsRequestBody::CreateGroup(create)),
    )
    .await;
    assert!(matches!(created, DsResponseBody::Ok), "got {created:?}");
    assert!(db.store.load_group(gid.as_str()).await.unwrap().is_some());

    // Alice adds bob; the Welcome lands in bob's inbox.
    let (update, welcome) = alice.commit_with(|cb| cb.propose_adds(vec![bob.key_package()]));
    let welcome = welcome.expect("an add commit comes with a Welcome");
    let added = ok(
        &server,
        &alice.signed(DsRequestBody::AddUsers(add_request(
            update,
            vec![welcome.clone()],
        ))),
    )
    .await;
    assert!(matches!(added, DsResponseBody::Ok), "got {added:?}");
    alice.merge();
    let page = db.store.sync(BOB, &Cursors::default(), 100).await.unwrap();
    assert_eq!(page.inbox.len(), 1, "exactly the Welcome");
    let inboxed = page.inbox[0].message.clone();
    assert_eq!(inboxed, welcome);

    // Bob joins from that Welcome with the tree fetched over the network.
    bob.join(&inboxed, &gid, |request| {
        match post_blocking(&server, request) {
            DsResponseBody::Error(e) => Err(e),
            response => Ok(Outcome {
                response,
                effects: vec![],
                state_changed: false,
            }),
        }
    })
    .unwrap();
    assert_eq!(bob.group().epoch(), alice.group().epoch());
    assert_eq!(
        bob.group().epoch_authenticator().as_slice(),
        alice.group().epoch_authenticator().as_slice()
    );

    // Bob's message is stored once and shows up in alice's sync.
    let before = db.store.log_len(gid.as_str()).await.unwrap();
    let text = bob.message(b"hello over h2");
    let sent = ok(
        &server,
        &bob.signed(DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(text.clone()).unwrap(),
        })),
    )
    .await;
    assert!(matches!(sent, DsResponseBody::Ok), "got {sent:?}");
    assert_eq!(db.store.log_len(gid.as_str()).await.unwrap(), before + 1);
    let log = group_log(&db.store, ALICE).await;
    assert_eq!(log.iter().filter(|m| **m == text).count(), 1);
    assert_eq!(log.last(), Some(&text));
    assert_eq!(
        alice.receive(&text),
        common::Received::Application(b"hello over h2".to_vec())
    );

    // Two commits for the same epoch: alice's is accepted, bob's is stale.
    let (alice_update, _) = alice.commit_with(|cb| cb.force_self_update(true));
    let (bob_update, _) = bob.commit_with(|cb| cb.force_self_update(true));
    let updated = ok(
        &server,
        &alice.signed(DsRequestBody::UpdateClient(update_request(alice_update))),
    )
    .await;
    assert!(matches!(updated, DsResponseBody::Ok), "got {updated:?}");
    alice.merge();
    let after_update = db.store.log_len(gid.as_str()).await.unwrap();
    assert_eq!(after_update, before + 2, "bob's message and alice's commit");
    let stale = refused(
        &server,
        &bob.signed(DsRequestBody::UpdateClient(update_request(bob_update))),
    )
    .await;
    assert_eq!(stale.code, DsErrorCode::WrongEpoch, "{stale}");
    bob.discard();
    assert_eq!(db.store.log_len(gid.as_str()).await.unwrap(), after_update);

    // Garbage (version 1, then junk) and a truncated real request are
    // answered with 200 and MalformedMessage; nothing is stored.
    let cut_short = alice.message(b"cut short");
    let mut truncated = alice
        .signed(DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(cut_short).unwrap(),
        }))
        .encode()
        .unwrap();
    truncated.truncate(truncated.len() / 2);
    for bad in [b"\x00\x01definitely not a DSRequest".to_vec(), truncated] {
        let rows = db.all_rows().await;
        let body = post_raw(&server, bad).await.ds_response().body;
        assert_eq!(code(&body), Some(DsErrorCode::MalformedMessage), "{body:?}");
        assert_eq!(db.store.log_len(gid.as_str()).await.unwrap(), after_update);
        assert_eq!(db.all_rows().await, rows);
    }

    // The refusal left the group usable: alice's next
    // message is stored.
    let later = alice.message(b"still here");
    let sent = ok(
        &server,
        &alice.signed(DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(later.clone()).unwrap(),
        })),
    )
    .await;
    assert!(matches!(sent, DsResponseBody::Ok), "got {sent:?}");
    assert_eq!(group_log(&db.store, ALICE).await.last(), Some(&later));

    server.stop().await;
}

/// The engine context of the test DS (domain ds-a.example).
fn ds_ctx(ds: &Ds) -> EngineContext {
    EngineContext::new(
        Domain::new(common::DOMAIN).unwrap(),
        ds.ctx.ds_signature_key().as_slice().to_vec(),
    )
}

on_both_backends!(conversation_over_the_network);
