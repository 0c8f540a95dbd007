//! Every client-facing operation end to end through the network, from
//! registration to the group's deletion: the real `App` (public TLS 1.3 +
//! HTTP/2 listener and admin listener) over SQLite and PostgreSQL, driven by
//! real openmls clients that read everything from their queues. The network
//! twin of ds-core's `engine_scenario`.
//!
//! alice, bob (two devices) and carol register and publish key packages;
//! alice creates a group with the DS (its key fetched from the DS) as
//! external sender and adds bob and carol with fetched key packages; they
//! join from the Welcome in their inbox with `ds_welcome_info`. Then
//! messages both ways, bob's second device added and removed
//! (`ds_add_clients`, `ds_remove_clients`), an update, the device's
//! external rejoin (`ds_external_commit_info` authenticated by its
//! registered key, with forged, stale and replayed attempts refused), its self-removal committed by reference, carol removed
//! (`ds_remove_users`) and re-added with her last-resort key package, the
//! operator deleting bob (a DS-issued Remove, committed by reference),
//! acknowledgements, and `ds_delete_group`. After every step each remaining
//! member reads the log gap-free and all agree on epoch, epoch
//! authenticator and roster; removed members read nothing further.

use ds_core::queue::sign_registered_request;
use ds_core::wire::{
    Bytes, ClientId, DsErrorCode, DsRequestBody, DsResponseBody, ExternalCommitInfo,
    ExternalCommitInfoRequest, GroupId, KeyPackageCountRequest, KeyPackageKind, List,
    PublishKeyPackagesRequest, QsRequestBody, QsResponseBody, QueuePositions,
};
use http::{Method, StatusCode};
use openmls::prelude::{
    BasicCredential, Extension, Extensions, ExternalSender, LeafNodeIndex, MlsGroup,
    OpenMlsProvider as _,
};
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::Serialize as _;

use crate::common::{self, Client, add_request, update_request};
use crate::packages::{Recipe, key_package, open, upload};
use crate::qs;
use crate::scene::{Got, Scene};
use crate::server::Server;
use crate::support::{TestDb, on_both_backends};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const BOB2: &str = "bob@ds-a.example/laptop";
const CAROL: &str = "carol@ds-a.example/tablet";

/// The key packages a client published: a regular one and a last-resort one.
struct Published {
    regular: Vec<u8>,
    last_resort: Vec<u8>,
}

/// `id` registers its key (open policy) and publishes its key packages.
async fn register_and_publish(s: &mut Scene, id: &str) -> Published {
    s.add(id);
    let key = s.client(id).signer.public().to_vec();
    assert_eq!(
        s.qs(id, qs::register_body(&key, b"")).await,
        QsResponseBody::Ok,
        "registering {id}"
    );
    let client = &s.member(id).client;
    let published = Published {
        regular: key_package(client, Recipe::REGULAR),
        last_resort: key_package(client, Recipe::LAST_RESORT),
    };
    let uploads = [&published.regular, &published.last_resort]
        .map(|kp| upload(KeyPackageKind::Regular, kp.clone()))
        .to_vec();
    let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
        key_packages: List::new(uploads).unwrap(),
    });
    // The last-resort package is kept but not counted.
    assert_eq!(s.qs(id, body).await, QsResponseBody::KeyPackageCount(1));
    published
}

/// The regular key packages `id` has left.
async fn regular_left(s: &Scene, id: &str) -> QsResponseBody {
    let body = QsRequestBody::KeyPackageCount(KeyPackageCountRequest {
        kind: KeyPackageKind::Regular,
    });
    s.qs(id, body).await
}

/// The leaf of `id` as its own group state says.
fn leaf(s: &mut Scene, id: &str) -> LeafNodeIndex {
    LeafNodeIndex::new(s.client(id).leaf_index())
}

/// `id` drops its stored state of the group it was removed from, as a
/// client does before it can be added back.
fn forget_group(s: &mut Scene, id: &str) {
    let gid = openmls::group::GroupId::from_slice(s.gid().as_bytes());
    let client = s.client(id);
    assert!(client.group.is_none(), "{id} is still in the group");
    let storage = client.provider.storage();
    let mut old = MlsGroup::load(storage, &gid)
        .unwrap()
        .expect("the old state");
    old.delete(storage).unwrap();
}

/// A copy of a signature key pair (the type is not `Clone`).
fn copy_key(signer: &SignatureKeyPair) -> SignatureKeyPair {
    serde_json::from_slice(&serde_json::to_vec(signer).unwrap()).unwrap()
}

/// The error code of a DS answer that must be a refusal.
fn refused(answer: DsResponseBody) -> DsErrorCode {
    match answer {
        DsResponseBody::Error(e) => e.code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// `ds_external_commit_info` as bob's laptop (a client of a member user,
/// not a member itself): forged, stale, replayed, anonymous or misplaced
/// RegisteredClient requests are refused with their code and change nothing
/// (no log entry, no nonce used up); the genuine one is answered.
async fn external_commit_info_refusals_then_fetch(
    s: &mut Scene,
    gid: &GroupId,
) -> ExternalCommitInfo {
    let body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
        group_id: gid.clone(),
    });
    let nonce = qs::fresh_nonce();
    let sign =
        |s: &Scene, id: &str, by: &str, timestamp: u64, nonce: &[u8], body: DsRequestBody| {
            sign_registered_request(
                body,
                ClientId::new(id).unwrap(),
                timestamp,
                nonce.to_vec(),
                s.signer(by),
            )
            .unwrap()
        };

    // Forged: carol's key signs in the laptop's name.
    let forged = sign(s, BOB2, CAROL, qs::now(), &nonce, body.clone());
    assert_eq!(
        refused(s.server.post(&forged).await),
        DsErrorCode::InvalidRequestSignature
    );
    // Stale: made well outside the freshness window.
    let stale = sign(s, BOB2, BOB2, qs::now() - 3_600, &nonce, body.clone());
    assert_eq!(
        refused(s.server.post(&stale).await),
        DsErrorCode::StaleRequest
    );
    // Not registered here, or of another domain.
    for stranger in ["dave@ds-a.example/pc", "bob@ds-b.example/laptop"] {
        let request = sign(s, stranger, BOB2, qs::now(), &nonce, body.clone());
        assert_eq!(
            refused(s.server.post(&request).await),
            DsErrorCode::UnknownClient,
            "{stranger}"
        );
    }
    // Anonymous: nobody to authorize.
    assert_eq!(
        refused(s.server.post(&common::anonymous(body.clone())).await),
        DsErrorCode::WrongAuthType
    );
    // RegisteredClient where it does not belong.
    let misplaced = sign(
        s,
        BOB2,
        BOB2,
        qs::now(),
        &nonce,
        DsRequestBody::RequestGroupId,
    );
    assert_eq!(
        refused(s.server.post(&misplaced).await),
        DsErrorCode::WrongAuthType
    );

    // None of that used up the nonce: the genuine request with it is answered.
    let genuine = sign(s, BOB2, BOB2, qs::now(), &nonce, body.clone());
    let DsResponseBody::ExternalCommitInfo(info) = s.server.ok(&genuine).await else {
        panic!("ds_external_commit_info did not answer with the information")
    };
    // Replayed as it is, or with the nonce in a new request: refused.
    assert_eq!(
        refused(s.server.post(&genuine).await),
        DsErrorCode::ReplayedRequest
    );
    let again = sign(s, BOB2, BOB2, qs::now() + 1, &nonce, body.clone());
    assert_eq!(
        refused(s.server.post(&again).await),
        DsErrorCode::ReplayedRequest
    );
    // The nonce space is the client's: its queue requests share it.
    let sync = ds_core::queue::sign_qs_request(
        qs::sync_body(&QueuePositions::default(), 1),
        ClientId::new(BOB2).unwrap(),
        qs::now(),
        nonce.clone(),
        s.signer(BOB2),
    )
    .unwrap();
    let answer = s.qs_request(&sync).await;
    assert_eq!(qs::qs_code(&answer), Some(DsErrorCode::ReplayedRequest));
    // Nothing reached the log.
    s.all_get(&[ALICE, BOB, CAROL], &[]).await;
    info
}

async fn every_operation_from_registration_to_deletion(db: TestDb) {
    let server = Server::plain(db.store.clone()).await;
    let mut s = Scene::new(server);

    // 1. Registration and key packages, over POST /mimi/v1/queue.
    let _alice_kps = register_and_publish(&mut s, ALICE).await;
    let bob_kps = register_and_publish(&mut s, BOB).await;
    let bob2_kps = register_and_publish(&mut s, BOB2).await;
    let carol_kps = register_and_publish(&mut s, CAROL).await;

    // 2. The DS's key, the group's external sender.
    let DsResponseBody::SignaturePublicKey(keys) = s
        .server
        .ok(&common::anonymous(DsRequestBody::SignaturePublicKey))
        .await
    else {
        panic!("ds_signature_public_key did not answer with keys")
    };
    let [key] = keys.keys.as_slice() else {
        panic!("expected exactly the current key, got {keys:?}")
    };
    assert_eq!((key.signature_scheme, key.not_after), (0x0807, 0));
    assert_eq!(key.public_key.as_slice().len(), 32, "an Ed25519 key");
    let ds_sender = ExternalSender::new(
        key.public_key.as_slice().to_vec().into(),
        BasicCredential::new(common::DOMAIN.as_bytes().to_vec()).into(),
    );
    let extensions = Extensions::single(Extension::ExternalSenders(vec![ds_sender])).unwrap();

    // Alice creates the group on an id the DS allocated.
    let DsResponseBody::GroupId(gid) = s
        .server
        .ok(&common::anonymous(DsRequestBody::RequestGroupId))
        .await
    else {
        panic!("ds_request_group_id did not answer with a group id")
    };
    assert_eq!(gid.domain(), common::DOMAIN);
    let create = s.client(ALICE).create_group_with(gid.as_str(), extensions);
    let created = s
        .server
        .post(&common::anonymous(DsRequestBody::CreateGroup(create)))
        .await;
    assert_eq!(created, DsResponseBody::Ok);
    s.created(gid.clone(), ALICE);

    // Epoch 1: alice fetches bob's key package and adds him; he joins from
    // the Welcome in his inbox.
    let fetched = s.fetch_key_package(BOB).await;
    assert_eq!(fetched, bob_kps.regular, "the regular package first");
    assert_eq!(
        regular_left(&s, BOB).await,
        QsResponseBody::KeyPackageCount(0)
    );
    let (update, welcome) = s
        .client(ALICE)
        .commit_with(|cb| cb.propose_adds([open(&fetched)]));
    let welcome = welcome.expect("an add commit comes with a Welcome");
    let add = add_request(update, vec![welcome.clone()]);
    let at = s.commit(ALICE, DsRequestBody::AddUsers(add)).await;
    assert_eq!(at, 1, "creating the group logs nothing");
    s.welcome(BOB, &welcome, at).await;
    s.converged(&[ALICE, BOB], 1);

    // 3. Messages both ways.
    s.say(ALICE, b"hello bob", &[BOB]).await;
    s.say(BOB, b"hello alice", &[ALICE]).await;

    // Epoch 2: alice adds carol.
    let fetched = s.fetch_key_package(CAROL).await;
    assert_eq!(fetched, carol_kps.regular);
    let (update, welcome) = s
        .client(ALICE)
        .commit_with(|cb| cb.propose_adds([open(&fetched)]));
    let welcome = welcome.unwrap();
    let add = add_request(update, vec![welcome.clone()]);
    let at = s.commit(ALICE, DsRequestBody::AddUsers(add)).await;
    s.all_get(&[BOB], &[Got::Commit(Some(ALICE.into()))]).await;
    s.welcome(CAROL, &welcome, at).await;
    s.converged(&[ALICE, BOB, CAROL], 2);
    s.say(CAROL, b"hi both", &[ALICE, BOB]).await;

    // Epoch 3: bob adds his second device, fetching its key package
    // authenticated with his registered key (anonymous works too).
    let fetched = s.fetch_key_package_as(Some(BOB), BOB2).await;
    assert_eq!(fetched, bob2_kps.regular);
    let (update, welcome) = s
        .client(BOB)
        .commit_with(|cb| cb.propose_adds([open(&fetched)]));
    let welcome = welcome.unwrap();
    let add = add_request(update, vec![welcome.clone()]);
    let at = s.commit(BOB, DsRequestBody::AddClients(add)).await;
    s.all_get(&[ALICE, CAROL], &[Got::Commit(Some(BOB.into()))])
        .await;
    s.welcome(BOB2, &welcome, at).await;
    s.converged(&[ALICE, BOB, BOB2, CAROL], 3);
    s.say(BOB2, b"my laptop", &[ALICE, BOB, CAROL]).await;

    // Epoch 4: carol updates her leaf.
    let (update, _) = s.client(CAROL).commit_with(|cb| cb.force_self_update(true));
    s.commit(CAROL, DsRequestBody::UpdateClient(update_request(update)))
        .await;
    s.all_get(&[ALICE, BOB, BOB2], &[Got::Commit(Some(CAROL.into()))])
        .await;
    s.converged(&[ALICE, BOB, BOB2, CAROL], 4);

    // Epoch 5: bob removes his second device, which gets the commit that
    // removes it and nothing after it.
    let bob2_leaf = leaf(&mut s, BOB2);
    let (update, _) = s
        .client(BOB)
        .commit_with(|cb| cb.propose_removals([bob2_leaf]));
    let removed_at = s
        .commit(BOB, DsRequestBody::RemoveClients(update_request(update)))
        .await;
    s.all_get(&[ALICE, CAROL, BOB2], &[Got::Commit(Some(BOB.into()))])
        .await;
    assert!(s.client(BOB2).group.is_none(), "bob2 saw its removal");
    assert_eq!(s.seen(BOB2), removed_at);
    s.converged(&[ALICE, BOB, CAROL], 5);
    s.say(ALICE, b"without the laptop", &[BOB, CAROL]).await;
    s.all_get(&[BOB2], &[]).await;

    // Epoch 6: the device lost its state and rejoins by external commit,
    // keeping its registered key. It fetches the group info, tree and
    // proposals with `ds_external_commit_info`, authenticated by that key
    // (RegisteredClient).
    let signer = copy_key(&s.client(BOB2).signer);
    s.replace(BOB2, Client::with_signer(BOB2, signer));
    let info = external_commit_info_refusals_then_fetch(&mut s, &gid).await;
    let tree = s
        .client(BOB)
        .group()
        .export_ratchet_tree()
        .tls_serialize_detached()
        .unwrap();
    assert_eq!(info.ratchet_tree.as_slice(), tree, "the current tree");
    assert!(info.proposals.is_empty(), "no proposal pending");
    let update = s.client(BOB2).external_join(&info);
    let joined = s
        .server
        .post(&common::anonymous(DsRequestBody::ExternalJoin(
            update_request(update),
        )))
        .await;
    assert_eq!(joined, DsResponseBody::Ok);
    s.all_get(&[ALICE], &[Got::Commit(Some(BOB2.into()))]).await;
    let rejoined_at = s.seen(ALICE);
    assert_eq!(
        rejoined_at,
        removed_at + 2,
        "alice's message, then the join"
    );
    // Nothing of the time it was out, nor its own commit, reaches it.
    let (inbox, entries) = s.read(BOB2, &s.positions(BOB2)).await;
    assert!(inbox.is_empty() && entries.is_empty(), "{entries:?}");
    s.member(BOB2).seen = Some(rejoined_at);
    s.all_get(&[BOB, CAROL], &[Got::Commit(Some(BOB2.into()))])
        .await;
    s.converged(&[ALICE, BOB, BOB2, CAROL], 6);
    s.say(BOB2, b"back again", &[ALICE, BOB, CAROL]).await;

    // The device leaves: its self-removal is stored by the DS and fanned out.
    let proposal = {
        let bob2 = s.client(BOB2);
        bob2.group
            .as_mut()
            .unwrap()
            .leave_group(&bob2.provider, &bob2.signer)
            .unwrap()
            .tls_serialize_detached()
            .unwrap()
    };
    let request = s.client(BOB2).signed(DsRequestBody::SelfRemoveClient(
        ds_core::wire::SelfRemoveClientRequest {
            proposal: Bytes::new(proposal).unwrap(),
        },
    ));
    assert_eq!(s.server.post(&request).await, DsResponseBody::Ok);
    s.all_get(&[BOB2], &[Got::Own]).await;
    s.all_get(&[ALICE, BOB, CAROL], &[Got::Proposal(Some(BOB2.into()))])
        .await;

    // Epoch 7: alice's update includes it by reference.
    let (update, _) = s
        .client(ALICE)
        .commit_with(|cb| cb.consume_proposal_store(true).force_self_update(true));
    s.commit(ALICE, DsRequestBody::UpdateClient(update_request(update)))
        .await;
    s.all_get(&[BOB, CAROL, BOB2], &[Got::Commit(Some(ALICE.into()))])
        .await;
    assert!(s.client(BOB2).group.is_none(), "bob2 left");
    s.converged(&[ALICE, BOB, CAROL], 7);

    // Epoch 8: alice removes the user carol.
    let carol_leaf = leaf(&mut s, CAROL);
    let (update, _) = s
        .client(ALICE)
        .commit_with(|cb| cb.propose_removals([carol_leaf]));
    s.commit(ALICE, DsRequestBody::RemoveUsers(update_request(update)))
        .await;
    s.all_get(&[BOB, CAROL], &[Got::Commit(Some(ALICE.into()))])
        .await;
    assert!(s.client(CAROL).group.is_none(), "carol saw her removal");
    s.converged(&[ALICE, BOB], 8);
    s.say(BOB, b"just us", &[ALICE]).await;
    s.all_get(&[CAROL, BOB2], &[]).await;

    // Epoch 9: alice adds carol back; her regular package is used up, so
    // the directory serves her last-resort one.
    forget_group(&mut s, CAROL);
    let fetched = s.fetch_key_package(CAROL).await;
    assert_eq!(fetched, carol_kps.last_resort);
    assert!(open(&fetched).last_resort());
    let (update, welcome) = s
        .client(ALICE)
        .commit_with(|cb| cb.propose_adds([open(&fetched)]));
    let welcome = welcome.unwrap();
    let add = add_request(update, vec![welcome.clone()]);
    let at = s.commit(ALICE, DsRequestBody::AddUsers(add)).await;
    s.all_get(&[BOB], &[Got::Commit(Some(ALICE.into()))]).await;
    s.welcome(CAROL, &welcome, at).await;
    s.converged(&[ALICE, BOB, CAROL], 9);

    // The operator deletes bob: the DS proposes his removal as the group's
    // external sender, and his registration is gone.
    let answer = s
        .server
        .admin(Method::DELETE, "/admin/v1/clients/bob@ds-a.example%2Fphone")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let report: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(report["deleted"][0]["client_id"], BOB);
    assert_eq!(
        report["deleted"][0]["removal_proposed_in"],
        serde_json::json!([gid.as_str()])
    );
    let refused = s.qs(BOB, qs::sync_body(&s.positions(BOB), 0)).await;
    assert_eq!(qs::qs_code(&refused), Some(DsErrorCode::UnknownClient));
    s.all_get(&[ALICE, CAROL], &[Got::Proposal(None)]).await;

    // Epoch 10: carol's update includes the DS's proposal by reference.
    let (update, _) = s
        .client(CAROL)
        .commit_with(|cb| cb.consume_proposal_store(true).force_self_update(true));
    s.commit(CAROL, DsRequestBody::UpdateClient(update_request(update)))
        .await;
    s.all_get(&[ALICE], &[Got::Commit(Some(CAROL.into()))])
        .await;
    s.converged(&[ALICE, CAROL], 10);
    // Bob is out: the DS proposes nothing more.
    s.all_get(&[ALICE, CAROL], &[]).await;
    s.say(ALICE, b"two left", &[CAROL]).await;
    s.say(CAROL, b"indeed", &[ALICE]).await;

    // Read from scratch, alice's whole log comes again, numbered 1, 2, ...
    // without a gap, and she skips all of it as duplicates.
    let last = s.seen(ALICE);
    let (_, entries) = s.read(ALICE, &QueuePositions::default()).await;
    let numbers: Vec<u64> = entries.iter().map(|e| e.sequence).collect();
    assert_eq!(numbers, (1..=last).collect::<Vec<_>>());
    assert_eq!(s.process(ALICE, entries), (vec![], last as usize));

    // 6. Acknowledged positions: a sync without positions then has nothing.
    for id in [ALICE, CAROL, BOB2] {
        let ack = qs::ack_body(&s.positions(id));
        assert_eq!(s.qs(id, ack).await, QsResponseBody::Ok, "{id}'s ack");
        let (inbox, entries) = s.read(id, &QueuePositions::default()).await;
        assert!(inbox.is_empty() && entries.is_empty(), "{id}: {entries:?}");
    }

    // Epoch 11: carol, the last committer, deletes the group, removing alice.
    let alice_leaf = leaf(&mut s, ALICE);
    let (update, _) = s
        .client(CAROL)
        .commit_with(|cb| cb.propose_removals([alice_leaf]));
    s.commit(CAROL, DsRequestBody::DeleteGroup(update_request(update)))
        .await;
    s.all_get(&[ALICE], &[Got::Commit(Some(CAROL.into()))])
        .await;
    assert!(s.client(ALICE).group.is_none(), "alice saw the deletion");
    s.all_get(&[BOB2], &[]).await;

    // The group is gone.
    let message = s.client(CAROL).message(b"anyone?");
    let request = s.client(CAROL).signed(DsRequestBody::SendMessage(
        ds_core::wire::SendMessageRequest {
            application_message: Bytes::new(message).unwrap(),
        },
    ));
    match s.server.post(&request).await {
        DsResponseBody::Error(e) => assert_eq!(e.code, DsErrorCode::GroupNotFound, "{e}"),
        other => panic!("a message to a deleted group was answered {other:?}"),
    }

    s.server.stop().await;
}

on_both_backends!(every_operation_from_registration_to_deletion);
