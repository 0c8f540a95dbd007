//! Refusals of group operations over the network: a forged ClientSignature,
//! a sender index naming no member, a commit whose MLS signature does not
//! verify, and a commit for a past epoch. Each is answered with its typed
//! code, and the database is unchanged afterwards; the group stays usable.

use common::{Client, Ds, add_request, update_request};
use ds_core::group::{EngineContext, Outcome};
use ds_core::wire::{
    Bytes, ClientSignature, Domain, DsAuthData, DsErrorCode, DsRequest, DsRequestBody,
    DsResponseBody, SendMessageRequest, ShortBytes,
};
use ds_server::http::Limits;
use ds_server::service::DsService;
use ds_server::storage::{Cursors, Timestamp};
use openmls::prelude::Extensions;

use crate::common;
use crate::net::{ok, post_blocking, refused};
use crate::support::{TestDb, on_both_backends};
use crate::transport::TestServer;

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

/// Alice's application message, signed by `body`'s ClientSignature as given.
fn message_request(alice: &mut Client, text: &[u8]) -> DsRequest {
    let message = alice.message(text);
    alice.signed(DsRequestBody::SendMessage(SendMessageRequest {
        application_message: Bytes::new(message).unwrap(),
    }))
}

/// Replaces the request's ClientSignature.
fn with_auth(mut request: DsRequest, sender_index: u32, signature: Vec<u8>) -> DsRequest {
    request.auth = DsAuthData::ClientSignature(ClientSignature {
        sender_index,
        signature: ShortBytes::new(signature).unwrap(),
    });
    request
}

async fn group_operations_refused_without_effect(db: TestDb) {
    let ds = Ds::new();
    let ctx = EngineContext::new(
        Domain::new(common::DOMAIN).unwrap(),
        ds.ctx.ds_signature_key().as_slice().to_vec(),
    );
    let server = TestServer::start(DsService::new(ctx, db.store.clone()), Limits::default()).await;
    let mut alice = Client::new(ALICE);
    let mut bob = Client::new(BOB);
    for c in [&alice, &bob] {
        db.store
            .register_client(c.id.as_str(), c.signer.public(), Timestamp::now())
            .await
            .unwrap();
    }
    let DsResponseBody::GroupId(gid) =
        ok(&server, &common::anonymous(DsRequestBody::RequestGroupId)).await
    else {
        panic!("no group id")
    };
    let create = alice.create_group_with(
        gid.as_str(),
        Extensions::single(ds.external_senders()).unwrap(),
    );
    ok(
        &server,
        &common::anonymous(DsRequestBody::CreateGroup(create)),
    )
    .await;
    let (update, welcome) = alice.commit_with(|cb| cb.propose_adds(vec![bob.key_package()]));
    let welcome = welcome.unwrap();
    ok(
        &server,
        &alice.signed(DsRequestBody::AddUsers(add_request(
            update,
            vec![welcome.clone()],
        ))),
    )
    .await;
    alice.merge();
    bob.join(&welcome, &gid, |request| {
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

    let rows = db.all_rows().await;
    let log = db.store.log_len(gid.as_str()).await.unwrap();
    let unchanged = || async {
        assert_eq!(db.all_rows().await, rows, "a refusal changed the database");
        assert_eq!(db.store.log_len(gid.as_str()).await.unwrap(), log);
    };

    // A ClientSignature by another key than the sender leaf's.
    let intruder = Client::new("mallory@ds-a.example/x");
    let request = message_request(&mut alice, b"forged");
    let content = ds_core::group::client_signature_content(&request, alice.leaf_index()).unwrap();
    use openmls_traits::signatures::Signer as _;
    let forged = with_auth(
        request,
        alice.leaf_index(),
        intruder.signer.sign(&content).unwrap(),
    );
    let e = refused(&server, &forged).await;
    assert_eq!(e.code, DsErrorCode::InvalidClientSignature, "{e}");
    unchanged().await;

    // A sender index that names no member leaf (a non-member's request).
    let request = message_request(&mut alice, b"nobody");
    let content = ds_core::group::client_signature_content(&request, 9).unwrap();
    let stranger = with_auth(request, 9, alice.signer.sign(&content).unwrap());
    let e = refused(&server, &stranger).await;
    assert_eq!(e.code, DsErrorCode::UnknownSender, "{e}");
    unchanged().await;

    // A commit whose signed content was altered after signing (validly
    // wrapped in a fresh ClientSignature): the commit does not verify. (The
    // trailing membership tag is a MAC the passive DS cannot check; the
    // middle of the message is the signed commit content.)
    let (mut update, _) = alice.commit_with(|cb| cb.force_self_update(true));
    let mut commit = update.commit.as_slice().to_vec();
    let middle = commit.len() / 2;
    commit[middle] ^= 0x01;
    update.commit = Bytes::new(commit).unwrap();
    let e = refused(
        &server,
        &alice.signed(DsRequestBody::UpdateClient(update_request(update))),
    )
    .await;
    assert!(
        matches!(
            e.code,
            DsErrorCode::InvalidCommit | DsErrorCode::MalformedMessage
        ),
        "{e}"
    );
    alice.discard();
    unchanged().await;

    // A commit for an epoch the group has left: bob commits first.
    let (stale, _) = alice.commit_with(|cb| cb.force_self_update(true));
    let (fresh, _) = bob.commit_with(|cb| cb.force_self_update(true));
    ok(
        &server,
        &bob.signed(DsRequestBody::UpdateClient(update_request(fresh))),
    )
    .await;
    bob.merge();
    let rows = db.all_rows().await;
    let e = refused(
        &server,
        &alice.signed(DsRequestBody::UpdateClient(update_request(stale))),
    )
    .await;
    assert_eq!(e.code, DsErrorCode::WrongEpoch, "{e}");
    assert_eq!(db.all_rows().await, rows);
    alice.discard();

    // The group still works: alice catches up and her message is stored.
    let page = db
        .store
        .sync(ALICE, &Cursors::default(), 100)
        .await
        .unwrap();
    alice.receive(&page.group_entries.last().unwrap().message);
    let request = message_request(&mut alice, b"still fine");
    assert!(matches!(ok(&server, &request).await, DsResponseBody::Ok));
    assert_eq!(db.store.log_len(gid.as_str()).await.unwrap(), log + 2);

    server.stop().await;
}

on_both_backends!(group_operations_refused_without_effect);
