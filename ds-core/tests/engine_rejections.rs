//! Every validation rule of the engine, one test each: a real request built
//! with real openmls clients that breaks exactly that rule is refused with the
//! rule's `DsErrorCode`, and the group state is byte-for-byte unchanged.
//! Accepted counterparts are included where they are cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ds_core::group::{CONNECTION_KEY_PACKAGE_EXTENSION, DsGroup, Effect, Outcome, STATE_FORMAT};
use ds_core::wire::*;
use ds_core::wire::{GroupId, ProtocolVersion};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::signatures::Signer;
use tls_codec::Serialize as _;

const ALICE: &str = "alice@ds-a.example/laptop";
const ALICE_PHONE: &str = "alice@ds-a.example/phone";
const BOB: &str = "bob@ds-b.example/phone";
const BOB_LAPTOP: &str = "bob@ds-b.example/laptop";
const CAROL: &str = "carol@ds-a.example/pc";
const EVE: &str = "eve@ds-b.example/tablet";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Asserts that `request` is refused with `code` and changes no state.
#[track_caller]
fn assert_rejected(w: &mut World, request: &DsRequest, code: DsErrorCode) -> DsError {
    assert_rejected_as(w, request, None, code)
}

/// Like [`assert_rejected`], with a transport-authenticated requester.
#[track_caller]
fn assert_rejected_as(
    w: &mut World,
    request: &DsRequest,
    requester: Option<&str>,
    code: DsErrorCode,
) -> DsError {
    let requester = requester.map(|r| ClientId::new(r).unwrap());
    let before = w.group.to_bytes().unwrap();
    let epoch = w.group.epoch();
    let roster = w.group.roster().clone();
    let err = match w.group.process(&w.ds.ctx, request, requester.as_ref(), NOW) {
        Ok(outcome) => panic!("expected {code:?}, but the request was accepted: {outcome:?}"),
        Err(e) => e,
    };
    assert_eq!(err.code, code, "wrong code; got {err}");
    assert!(!err.detail().is_empty(), "a rejection says why");
    assert_eq!(w.group.epoch(), epoch);
    assert_eq!(w.group.roster(), &roster);
    assert_eq!(
        w.group.to_bytes().unwrap(),
        before,
        "a rejected request changed the state"
    );
    err
}

/// Asserts that creating a group from `request` is refused with `code`.
#[track_caller]
fn assert_create_rejected(ds: &Ds, request: &CreateGroupRequest, code: DsErrorCode) -> DsError {
    match DsGroup::create(&ds.ctx, request, NOW) {
        Ok((group, _)) => panic!(
            "expected {code:?}, but group {} was created",
            group.group_id()
        ),
        Err(e) => {
            assert_eq!(e.code, code, "wrong code; got {e}");
            e
        }
    }
}

/// A one-member group of `kind` created by `creator`.
fn world_of(creator: &str, kind: GroupKind) -> World {
    let ds = Ds::new();
    let mut c = Client::new(creator);
    let request = c.create_group(&ds, "g1", kind);
    let (group, _) = DsGroup::create(&ds.ctx, &request, NOW).unwrap();
    World {
        ds,
        group,
        clients: vec![c],
    }
}

/// alice, then `others` (new users) added by alice with AddUsers.
fn world_with(others: &[&str]) -> World {
    let mut w = World::new(ALICE);
    if !others.is_empty() {
        w.add(ALICE, others, false);
    }
    w
}

fn leaf_of(w: &World, client: &str) -> LeafNodeIndex {
    w.group
        .roster()
        .leaf_of(&ClientId::new(client).unwrap())
        .unwrap()
}

fn client<'a>(w: &'a mut World, id: &str) -> &'a mut Client {
    let i = w.idx(id);
    &mut w.clients[i]
}

fn member<'a>(w: &'a World, id: &str) -> &'a Client {
    &w.clients[w.idx(id)]
}

/// A self-update commit by `by` (left pending in its client).
fn self_update(w: &mut World, by: &str) -> MlsGroupUpdate {
    client(w, by).commit_with(|cb| cb.force_self_update(true)).0
}

fn update_client(update: MlsGroupUpdate) -> DsRequestBody {
    DsRequestBody::UpdateClient(update_request(update))
}

fn send_message(message: Vec<u8>) -> DsRequestBody {
    DsRequestBody::SendMessage(SendMessageRequest {
        application_message: Bytes::new(message).unwrap(),
    })
}

fn self_remove_body(proposal: Vec<u8>) -> DsRequestBody {
    DsRequestBody::SelfRemoveClient(SelfRemoveClientRequest {
        proposal: Bytes::new(proposal).unwrap(),
    })
}

fn add_users(update: MlsGroupUpdate, welcome: Option<Vec<u8>>) -> DsRequestBody {
    DsRequestBody::AddUsers(add_request(update, welcome.into_iter().collect()))
}

fn add_clients(update: MlsGroupUpdate, welcome: Option<Vec<u8>>) -> DsRequestBody {
    DsRequestBody::AddClients(add_request(update, welcome.into_iter().collect()))
}

/// `bytes` with the byte at `at` inverted.
fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0xff;
    out
}

fn with_commit(update: &MlsGroupUpdate, commit: Vec<u8>) -> MlsGroupUpdate {
    MlsGroupUpdate {
        commit: Bytes::new(commit).unwrap(),
        partial_group_info: update.partial_group_info.clone(),
    }
}

/// Offsets of the trailing authentication fields of a member's PublicMessage
/// commit with Ed25519 and SHA-256: `signature<V>` (64 bytes),
/// `confirmation_tag<V>` (32), `membership_tag<V>` (32), each behind a
/// one-byte length.
struct CommitTail {
    signature: usize,
    confirmation_tag: usize,
}

fn commit_tail(commit: &[u8]) -> CommitTail {
    let n = commit.len();
    assert_eq!(commit[n - 33], 32, "membership tag length");
    assert_eq!(commit[n - 66], 32, "confirmation tag length");
    assert_eq!(commit[n - 131], 64, "signature length");
    CommitTail {
        signature: n - 130,
        confirmation_tag: n - 65,
    }
}

/// A copy of a signature key pair (a device that kept its key).
fn copy_signer(signer: &SignatureKeyPair) -> SignatureKeyPair {
    serde_json::from_slice(&serde_json::to_vec(signer).unwrap()).unwrap()
}

/// Fetches ExternalCommitInfo as `requester` (must be allowed).
fn external_info(w: &mut World, requester: &str) -> ExternalCommitInfo {
    let request = external_info_request(w, requester);
    let requester = ClientId::new(requester).unwrap();
    let before = w.group.to_bytes().unwrap();
    let outcome = w
        .group
        .process(&w.ds.ctx, &request, Some(&requester), NOW)
        .unwrap();
    assert!(!outcome.state_changed);
    assert_eq!(w.group.to_bytes().unwrap(), before);
    match outcome.response {
        DsResponseBody::ExternalCommitInfo(info) => info,
        other => panic!("unexpected {other:?}"),
    }
}

/// `external_commit_info` with `RegisteredClient` auth by `requester`.
fn external_info_request(w: &World, requester: &str) -> DsRequest {
    registered(
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: w.group.group_id().clone(),
        }),
        requester,
    )
}

fn external_join(update: MlsGroupUpdate) -> DsRequest {
    anonymous(DsRequestBody::ExternalJoin(update_request(update)))
}

/// A Remove proposal (PublicMessage) by `by` of the member at `target`.
fn propose_remove(w: &mut World, by: &str, target: LeafNodeIndex) -> Vec<u8> {
    let c = client(w, by);
    let provider = &c.provider;
    let signer = &c.signer;
    c.group
        .as_mut()
        .unwrap()
        .propose_remove_member(provider, signer, target)
        .unwrap()
        .0
        .tls_serialize_detached()
        .unwrap()
}

/// `by`'s own Remove proposal (openmls `leave_group`).
fn leave(w: &mut World, by: &str) -> Vec<u8> {
    let c = client(w, by);
    let provider = &c.provider;
    let signer = &c.signer;
    c.group
        .as_mut()
        .unwrap()
        .leave_group(provider, signer)
        .unwrap()
        .tls_serialize_detached()
        .unwrap()
}

/// Switches `by`'s outgoing wire format to PrivateMessage for everything.
fn encrypt_handshakes(w: &mut World, by: &str) {
    let c = client(w, by);
    let config = MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .build();
    c.group
        .as_mut()
        .unwrap()
        .set_configuration(c.provider.storage(), &config)
        .unwrap();
}

/// A CreateGroupRequest for a fresh group of `creator` with group id
/// `group_id` and the given group context extensions.
fn create_request(
    creator: &mut Client,
    group_id: &str,
    extensions: Extensions<GroupContext>,
) -> CreateGroupRequest {
    creator.create_group_with(group_id, extensions)
}

/// A client whose credential names `identity` (which need not be a valid client id).
fn client_with_identity(identity: &[u8]) -> Client {
    let mut c = Client::new("placeholder@ds-a.example/x");
    c.credential = CredentialWithKey {
        credential: BasicCredential::new(identity.to_vec()).into(),
        signature_key: c.signer.public().into(),
    };
    c
}

/// Hand-frames a member commit of `by` for the group's current epoch with the
/// given encoded `proposals` (the content of `ProposalOrRef proposals<V>`)
/// and no UpdatePath: openmls's builders never produce such a commit when a
/// path is required, so it is built byte by byte (RFC 9420 §6) and signed
/// with `by`'s key. The confirmation and membership tags are dummies (the DS
/// can check neither).
fn pathless_commit(w: &World, by: &str, proposals: &[u8]) -> MlsGroupUpdate {
    use tls_codec::VLBytes;
    let c = &w.clients[w.idx(by)];
    let leaf = leaf_of(w, by).u32();
    let mut content = Vec::new();
    VLBytes::new(w.group.group_id().as_bytes().to_vec())
        .tls_serialize(&mut content)
        .unwrap();
    content.extend_from_slice(&w.group.epoch().to_be_bytes());
    content.push(1); // sender_type member
    content.extend_from_slice(&leaf.to_be_bytes());
    content.push(0); // authenticated_data: empty
    content.push(3); // content_type commit
    VLBytes::new(proposals.to_vec())
        .tls_serialize(&mut content)
        .unwrap();
    content.push(0); // optional<UpdatePath>: absent

    let header = [0u8, 1, 0, 1]; // mls10, mls_public_message
    let mut tbs = header.to_vec();
    tbs.extend_from_slice(&content);
    tbs.extend_from_slice(
        &w.group
            .public_group()
            .group_context()
            .tls_serialize_detached()
            .unwrap(),
    );
    let to_sign = SignContent::new("FramedContentTBS", tbs.into())
        .tls_serialize_detached()
        .unwrap();
    let signature = c.signer.sign(&to_sign).unwrap();

    let mut message = header.to_vec();
    message.extend_from_slice(&content);
    VLBytes::new(signature).tls_serialize(&mut message).unwrap();
    let confirmation_tag = VLBytes::new(vec![7; 32]);
    let membership_tag = VLBytes::new(vec![9; 32]);
    confirmation_tag.tls_serialize(&mut message).unwrap();
    membership_tag.tls_serialize(&mut message).unwrap();
    MlsGroupUpdate {
        commit: Bytes::new(message).unwrap(),
        partial_group_info: PartialGroupInfo {
            group_info_extensions: Bytes::new(vec![0]).unwrap(),
            signature: Bytes::new(vec![0; 64]).unwrap(),
        },
    }
}

// ---------------------------------------------------------------------------
// Version, operation, authentication
// ---------------------------------------------------------------------------

#[test]
fn unsupported_version() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    for version in [0, 2, u16::MAX] {
        let mut request = w.clients[0].signed(update_client(update.clone()));
        request.version = ProtocolVersion(version);
        assert_rejected(&mut w, &request, DsErrorCode::UnsupportedVersion);
    }
    // The same commit as version 1 is accepted.
    let request = w.clients[0].signed(update_client(update));
    w.process(&request).unwrap();
}

#[test]
fn unsupported_operation_on_a_group() {
    let mut w = World::new(ALICE);
    let mut other = Client::new(BOB);
    let create = other.create_group(&w.ds, "g2", GroupKind::Regular);
    let bodies = [
        DsRequestBody::RequestGroupId,
        DsRequestBody::CreateGroup(create),
        DsRequestBody::SignaturePublicKey,
        DsRequestBody::KeyPackages(KeyPackagesRequest {
            client_ids: List::new(vec![ClientId::new(BOB).unwrap()]).unwrap(),
        }),
        DsRequestBody::ConnectionKeyPackages(ConnectionKeyPackagesRequest {
            user_id: UserId::new("bob@ds-b.example").unwrap(),
        }),
    ];
    for body in bodies {
        assert_rejected(
            &mut w,
            &anonymous(body.clone()),
            DsErrorCode::UnsupportedOperation,
        );
        let signed = w.clients[0].signed(body);
        assert_rejected(&mut w, &signed, DsErrorCode::UnsupportedOperation);
    }
}

#[test]
fn wrong_auth_type_commit_with_anonymous_auth() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, BOB);
    assert_rejected(
        &mut w,
        &anonymous(update_client(update)),
        DsErrorCode::WrongAuthType,
    );
}

#[test]
fn wrong_auth_type_commit_with_joiner_signature() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].joiner_signed(update_client(update), &[1; 32]);
    assert_rejected(&mut w, &request, DsErrorCode::WrongAuthType);
}

#[test]
fn wrong_auth_type_external_join_with_client_signature() {
    let mut w = World::new(ALICE);
    let info = external_info(&mut w, ALICE_PHONE);
    let mut phone = Client::new(ALICE_PHONE);
    let update = phone.external_join(&info);
    // Signed by a member, as if it were a member operation.
    let request = w.clients[0].signed(DsRequestBody::ExternalJoin(update_request(update.clone())));
    assert_rejected(&mut w, &request, DsErrorCode::WrongAuthType);
    // Anonymous, as the operation requires: accepted.
    w.process(&external_join(update)).unwrap();
}

#[test]
fn wrong_auth_type_welcome_info_without_joiner_signature() {
    let mut w = World::new(ALICE);
    let bob = Client::new(BOB);
    let kp = bob.key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    w.process(&request).unwrap();
    let body = DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
        group_id: w.group.group_id().clone(),
        epoch: 1,
    });
    let signed = w.clients[0].signed(body.clone());
    assert_rejected(&mut w, &signed, DsErrorCode::WrongAuthType);
    assert_rejected(&mut w, &anonymous(body), DsErrorCode::WrongAuthType);
}

#[test]
fn wrong_auth_type_send_message_and_self_remove_without_client_signature() {
    let mut w = world_with(&[BOB]);
    let message = client(&mut w, BOB).message(b"hi");
    assert_rejected(
        &mut w,
        &anonymous(send_message(message.clone())),
        DsErrorCode::WrongAuthType,
    );
    let joiner = member(&w, BOB).joiner_signed(send_message(message), &[1; 32]);
    assert_rejected(&mut w, &joiner, DsErrorCode::WrongAuthType);
    let proposal = leave(&mut w, BOB);
    assert_rejected(
        &mut w,
        &anonymous(self_remove_body(proposal)),
        DsErrorCode::WrongAuthType,
    );
}

#[test]
fn invalid_client_signature_by_another_members_key() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    // Bob signs claiming alice's leaf.
    let alice_leaf = w.clients[0].leaf_index();
    let request = member(&w, BOB).signed_at(update_client(update), alice_leaf);
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
}

#[test]
fn invalid_client_signature_tampered() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    let mut request = w.clients[0].signed(update_client(update.clone()));
    let DsAuthData::ClientSignature(cs) = &mut request.auth else {
        unreachable!()
    };
    cs.signature = ShortBytes::new(flipped(cs.signature.as_slice(), 5)).unwrap();
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
    // An empty signature.
    let mut request = w.clients[0].signed(update_client(update));
    let DsAuthData::ClientSignature(cs) = &mut request.auth else {
        unreachable!()
    };
    cs.signature = ShortBytes::new(Vec::new()).unwrap();
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
}

#[test]
fn invalid_client_signature_body_changed_after_signing() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    let mut request = w.clients[0].signed(update_client(update.clone()));
    // Swap in another (otherwise invalid) PartialGroupInfo signature: the
    // ClientSignature is checked first and no longer verifies.
    let mut changed = update.clone();
    changed.partial_group_info.signature =
        Bytes::new(flipped(update.partial_group_info.signature.as_slice(), 0)).unwrap();
    request.body = update_client(changed);
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
    // The same body under another operation does not verify either.
    let mut request = w.clients[0].signed(update_client(update.clone()));
    request.body = DsRequestBody::RemoveClients(update_request(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
}

#[test]
fn unknown_sender_index_beyond_the_tree() {
    let mut w = world_with(&[BOB]);
    let message = w.clients[0].message(b"hi");
    let update = self_update(&mut w, ALICE);
    for index in [2, 7, u32::MAX] {
        let request = w.clients[0].signed_at(update_client(update.clone()), index);
        assert_rejected(&mut w, &request, DsErrorCode::UnknownSender);
    }
    let request = w.clients[0].signed_at(send_message(message), 9);
    assert_rejected(&mut w, &request, DsErrorCode::UnknownSender);
}

#[test]
fn unknown_sender_blank_leaf() {
    let mut w = world_with(&[BOB, CAROL]);
    let bob_leaf = leaf_of(&w, BOB);
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([bob_leaf]));
    let request = w.clients[0].signed(DsRequestBody::RemoveUsers(update_request(update)));
    w.process(&request).unwrap();
    w.clients[0].merge();
    // Bob, removed, still signs with his old key at his old (now blank) leaf.
    let stale = self_update(&mut w, BOB);
    let request = member(&w, BOB).signed_at(update_client(stale), bob_leaf.u32());
    assert_rejected(&mut w, &request, DsErrorCode::UnknownSender);
}

#[test]
fn sender_mismatch_commit_by_another_member() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, BOB);
    // Alice signs (validly, at her own leaf) a request carrying bob's commit.
    let request = w.clients[0].signed(update_client(update.clone()));
    assert_rejected(&mut w, &request, DsErrorCode::SenderMismatch);
    let request = member(&w, BOB).signed(update_client(update));
    w.process(&request).unwrap();
}

#[test]
fn sender_mismatch_self_remove_of_another_member() {
    let mut w = world_with(&[BOB]);
    let proposal = leave(&mut w, BOB);
    let request = w.clients[0].signed(self_remove_body(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::SenderMismatch);
}

/// An external commit (a resync of bob's device) wrapped in a member
/// operation and signed by bob at his old leaf: the request's signer is a
/// member leaf, the commit's sender is `new_member_commit`.
///
/// ENGINE MISMATCH: the engine answers `InvalidCommit` ("must be committed by
/// a member"), but the commit passed MLS validation; the fault is that the
/// request's sender and the MLS message's sender differ, which is what
/// `SenderMismatch` means.
#[test]
fn sender_mismatch_external_commit_sent_as_update_client() {
    let mut w = world_with(&[BOB]);
    let info = external_info(&mut w, BOB);
    let b = w.idx(BOB);
    let mut resynced = Client::with_signer(BOB, copy_signer(&w.clients[b].signer));
    let update = resynced.external_join(&info);
    let request = w.clients[b].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::SenderMismatch);
}

// ---------------------------------------------------------------------------
// Framing: parse, wire format, group, epoch, content type
// ---------------------------------------------------------------------------

#[test]
fn malformed_message_garbage_commit() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    let commit = update.commit.as_slice();
    let garbage = [
        vec![],
        vec![0xde, 0xad, 0xbe, 0xef],
        commit[..commit.len() - 1].to_vec(), // truncated
        [commit, &[0]].concat(),             // trailing byte
    ];
    for bytes in garbage {
        let request = w.clients[0].signed(update_client(with_commit(&update, bytes)));
        assert_rejected(&mut w, &request, DsErrorCode::MalformedMessage);
    }
}

#[test]
fn not_public_message_commit_sent_as_private_message() {
    let mut w = world_with(&[BOB]);
    encrypt_handshakes(&mut w, ALICE);
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::NotPublicMessage);
}

#[test]
fn not_public_message_other_messages_as_commit() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    w.clients[0].discard();
    let application = w.clients[0].message(b"hi");
    let key_package = MlsMessageOut::from(Client::new(BOB).key_package())
        .tls_serialize_detached()
        .unwrap();
    let group_info = w.group.group_info().to_vec();
    for bytes in [application, key_package, group_info] {
        let request = w.clients[0].signed(update_client(with_commit(&update, bytes)));
        assert_rejected(&mut w, &request, DsErrorCode::NotPublicMessage);
    }
}

#[test]
fn wrong_group_commit_of_another_group() {
    let mut w = World::new(ALICE);
    // Eve runs group g2 on the same DS.
    let mut eve = Client::new(EVE);
    let create = eve.create_group(&w.ds, "g2", GroupKind::Regular);
    let (mut g2, _) = DsGroup::create(&w.ds.ctx, &create, NOW).unwrap();
    let (update, _) = eve.commit_with(|cb| cb.force_self_update(true));
    // Alice (leaf 0 of g1) signs a request to g1 carrying the g2 commit.
    let request = w.clients[0].signed(update_client(update.clone()));
    assert_rejected(&mut w, &request, DsErrorCode::WrongGroup);
    // In its own group it is fine.
    g2.process(&w.ds.ctx, &eve.signed(update_client(update)), None, NOW)
        .unwrap();
}

#[test]
fn wrong_group_message_proposal_and_welcome_info_of_another_group() {
    let mut w = World::new(ALICE);
    let mut eve = Client::new(EVE);
    eve.create_group(&w.ds, "g2", GroupKind::Regular);
    let message = eve.message(b"hi");
    let request = w.clients[0].signed(send_message(message));
    assert_rejected(&mut w, &request, DsErrorCode::WrongGroup);

    let proposal = {
        let provider = &eve.provider;
        let signer = &eve.signer;
        eve.group
            .as_mut()
            .unwrap()
            .propose_self_update(provider, signer, LeafNodeParameters::default())
            .unwrap()
            .0
            .tls_serialize_detached()
            .unwrap()
    };
    let request = w.clients[0].signed(self_remove_body(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::WrongGroup);

    let request = eve.joiner_signed(
        DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
            group_id: GroupId::new(&format!("g2@{DOMAIN}")).unwrap(),
            epoch: 0,
        }),
        &[1; 32],
    );
    assert_rejected(&mut w, &request, DsErrorCode::WrongGroup);
}

#[test]
fn wrong_epoch_stale_commit() {
    let mut w = world_with(&[BOB]);
    let stale = self_update(&mut w, BOB);
    let update = self_update(&mut w, ALICE);
    let outcome = w
        .process(&w.clients[0].signed(update_client(update)))
        .unwrap();
    w.clients[0].merge();
    // Bob's commit for the old epoch lost the race.
    let request = member(&w, BOB).signed(update_client(stale));
    assert_rejected(&mut w, &request, DsErrorCode::WrongEpoch);
    // After catching up, bob's new commit goes through.
    let b = w.idx(BOB);
    w.clients[b].discard();
    w.fan_out(&outcome, 0);
    let update = self_update(&mut w, BOB);
    w.process(&member(&w, BOB).signed(update_client(update)))
        .unwrap();
}

#[test]
fn wrong_epoch_commit_for_a_future_epoch() {
    let mut w = World::new(ALICE);
    // Alice merges a commit the DS never saw, then commits on top of it.
    self_update(&mut w, ALICE);
    w.clients[0].merge();
    let ahead = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(update_client(ahead));
    assert_rejected(&mut w, &request, DsErrorCode::WrongEpoch);
}

#[test]
fn wrong_epoch_stale_application_message() {
    let mut w = world_with(&[BOB]);
    let stale = client(&mut w, BOB).message(b"late");
    let update = self_update(&mut w, ALICE);
    w.process(&w.clients[0].signed(update_client(update)))
        .unwrap();
    let request = member(&w, BOB).signed(send_message(stale));
    assert_rejected(&mut w, &request, DsErrorCode::WrongEpoch);
}

#[test]
fn wrong_epoch_stale_self_remove() {
    let mut w = world_with(&[BOB]);
    let stale = leave(&mut w, BOB);
    let update = self_update(&mut w, ALICE);
    w.process(&w.clients[0].signed(update_client(update)))
        .unwrap();
    let request = member(&w, BOB).signed(self_remove_body(stale));
    assert_rejected(&mut w, &request, DsErrorCode::WrongEpoch);
}

#[test]
fn wrong_content_type_proposal_sent_as_commit() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    w.clients[0].discard();
    let bob_leaf = leaf_of(&w, BOB);
    let proposal = propose_remove(&mut w, ALICE, bob_leaf);
    let request = w.clients[0].signed(DsRequestBody::RemoveUsers(update_request(with_commit(
        &update, proposal,
    ))));
    assert_rejected(&mut w, &request, DsErrorCode::WrongContentType);
}

#[test]
fn wrong_content_type_commit_sent_as_self_remove() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, BOB);
    let request = member(&w, BOB).signed(self_remove_body(update.commit.as_slice().to_vec()));
    assert_rejected(&mut w, &request, DsErrorCode::WrongContentType);
}

#[test]
fn wrong_content_type_private_proposal_sent_as_message() {
    // send_message checks for a PrivateMessage first, so the handshake
    // message must be encrypted to reach the content-type rule.
    let mut w = world_with(&[BOB]);
    encrypt_handshakes(&mut w, ALICE);
    let proposal = {
        let c = &mut w.clients[0];
        let provider = &c.provider;
        let signer = &c.signer;
        c.group
            .as_mut()
            .unwrap()
            .propose_self_update(provider, signer, LeafNodeParameters::default())
            .unwrap()
            .0
            .tls_serialize_detached()
            .unwrap()
    };
    let request = w.clients[0].signed(send_message(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::WrongContentType);
    // An encrypted commit is refused the same way.
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(send_message(update.commit.as_slice().to_vec()));
    assert_rejected(&mut w, &request, DsErrorCode::WrongContentType);
}

#[test]
fn not_private_message_public_message_sent_as_message() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(send_message(update.commit.as_slice().to_vec()));
    assert_rejected(&mut w, &request, DsErrorCode::NotPrivateMessage);
    w.clients[0].discard();
    let proposal = leave(&mut w, ALICE);
    let request = w.clients[0].signed(send_message(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::NotPrivateMessage);
    let group_info = w.group.group_info().to_vec();
    let request = w.clients[0].signed(send_message(group_info));
    assert_rejected(&mut w, &request, DsErrorCode::NotPrivateMessage);
}

// ---------------------------------------------------------------------------
// MLS validation of commits and proposals, PartialGroupInfo
// ---------------------------------------------------------------------------

#[test]
fn invalid_commit_tampered_signature() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    let tail = commit_tail(update.commit.as_slice());
    let tampered = flipped(update.commit.as_slice(), tail.signature + 10);
    let request = w.clients[0].signed(update_client(with_commit(&update, tampered)));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidCommit);
}

#[test]
fn invalid_commit_tampered_update_path() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    // A byte of the UpdatePath's last HPKE ciphertext, just before the
    // signature: the commit still parses, but its signature no longer verifies.
    let tail = commit_tail(update.commit.as_slice());
    let tampered = flipped(update.commit.as_slice(), tail.signature - 20);
    let request = w.clients[0].signed(update_client(with_commit(&update, tampered)));
    let err = assert_rejected(&mut w, &request, DsErrorCode::InvalidCommit);
    assert!(err.detail().contains("signature"), "{err}");
}

/// Alice got bob's self-removal directly (the DS never saw it) and commits it
/// by reference: her state has diverged from the DS's.
#[test]
fn invalid_commit_by_reference_to_an_unknown_proposal() {
    let mut w = world_with(&[BOB]);
    let proposal = leave(&mut w, BOB);
    w.clients[0].receive(&proposal);
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(update_client(update));
    let err = assert_rejected(&mut w, &request, DsErrorCode::InvalidCommit);
    assert!(err.detail().contains("missing a proposal"), "{err}");
}

#[test]
fn invalid_proposal_tampered_self_remove() {
    let mut w = world_with(&[BOB]);
    let proposal = leave(&mut w, BOB);
    // The proposal ends with signature<V> and membership_tag<V>; flip a
    // signature byte.
    let n = proposal.len();
    assert_eq!(proposal[n - 33], 32);
    assert_eq!(proposal[n - 98], 64);
    let tampered = flipped(&proposal, n - 50);
    let request = member(&w, BOB).signed(self_remove_body(tampered));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidProposal);
    // Untampered, it is stored.
    let request = member(&w, BOB).signed(self_remove_body(proposal));
    assert!(w.process(&request).unwrap().state_changed);
}

#[test]
fn invalid_partial_group_info_tampered_signature() {
    let mut w = world_with(&[BOB]);
    let mut update = self_update(&mut w, ALICE);
    let signature = update.partial_group_info.signature.as_slice().to_vec();
    update.partial_group_info.signature = Bytes::new(flipped(&signature, 3)).unwrap();
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidPartialGroupInfo);
}

#[test]
fn invalid_partial_group_info_garbage_extensions() {
    let mut w = world_with(&[BOB]);
    let mut update = self_update(&mut w, ALICE);
    update.partial_group_info.group_info_extensions = Bytes::new(vec![0x05, 0xff]).unwrap();
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidPartialGroupInfo);
}

#[test]
fn invalid_partial_group_info_changed_extensions() {
    let mut w = world_with(&[BOB]);
    let mut update = self_update(&mut w, ALICE);
    // Well-formed but not what was signed (e.g. the external_pub dropped).
    let empty = Extensions::<openmls::messages::group_info::GroupInfo>::empty()
        .tls_serialize_detached()
        .unwrap();
    assert_ne!(
        update.partial_group_info.group_info_extensions.as_slice(),
        empty
    );
    update.partial_group_info.group_info_extensions = Bytes::new(empty).unwrap();
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidPartialGroupInfo);
}

/// The DS cannot check a commit's confirmation tag (it has no epoch secrets),
/// but the GroupInfo it rebuilds carries it under the committer's signature.
#[test]
fn invalid_partial_group_info_tampered_confirmation_tag() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    let tail = commit_tail(update.commit.as_slice());
    let tampered = flipped(update.commit.as_slice(), tail.confirmation_tag + 4);
    let request = w.clients[0].signed(update_client(with_commit(&update, tampered)));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidPartialGroupInfo);
}

// ---------------------------------------------------------------------------
// Per-operation rules
// ---------------------------------------------------------------------------

#[test]
fn proposal_not_allowed_add_users_with_a_remove() {
    let mut w = world_with(&[BOB]);
    let carol = Client::new(CAROL);
    let kp = carol.key_package();
    let bob_leaf = leaf_of(&w, BOB);
    let (update, welcome) =
        w.clients[0].commit_with(|cb| cb.propose_adds([kp]).propose_removals([bob_leaf]));
    let request = w.clients[0].signed(add_users(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
}

#[test]
fn proposal_not_allowed_remove_users_with_an_add() {
    let mut w = world_with(&[BOB]);
    let kp = Client::new(CAROL).key_package();
    let bob_leaf = leaf_of(&w, BOB);
    let (update, _) =
        w.clients[0].commit_with(|cb| cb.propose_adds([kp]).propose_removals([bob_leaf]));
    let request = w.clients[0].signed(DsRequestBody::RemoveUsers(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
}

#[test]
fn proposal_not_allowed_group_context_extensions() {
    let mut w = world_with(&[BOB]);
    let extensions = Extensions::single(w.ds.external_senders()).unwrap();
    let (update, _) = w.clients[0].commit_with(|cb| {
        cb.propose_group_context_extensions(extensions)
            .unwrap()
            .force_self_update(true)
    });
    let request = w.clients[0].signed(update_client(update.clone()));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidUpdate);
    for body in [
        DsRequestBody::RemoveClients(update_request(update.clone())),
        DsRequestBody::DeleteGroup(update_request(update.clone())),
        add_users(update, None),
    ] {
        let request = w.clients[0].signed(body);
        assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
    }
}

/// UpdateClient "carries no proposals of its own": any inline proposal is
/// refused with `InvalidUpdate`.
#[test]
fn invalid_update_update_client_with_an_add() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]).force_self_update(true));
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidUpdate);
}

#[test]
fn proposal_not_allowed_add_operations_without_adds() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    for body in [
        add_users(update.clone(), None),
        add_clients(update.clone(), None),
    ] {
        let request = w.clients[0].signed(body);
        assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
    }
}

#[test]
fn proposal_not_allowed_remove_operations_without_removes() {
    let mut w = World::new(ALICE);
    let update = self_update(&mut w, ALICE);
    for body in [
        DsRequestBody::RemoveUsers(update_request(update.clone())),
        DsRequestBody::RemoveClients(update_request(update.clone())),
    ] {
        let request = w.clients[0].signed(body);
        assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
    }
}

#[test]
fn proposal_not_allowed_delete_group_with_an_add() {
    let mut w = world_with(&[BOB]);
    let kp = Client::new(CAROL).key_package();
    let bob_leaf = leaf_of(&w, BOB);
    let (update, _) =
        w.clients[0].commit_with(|cb| cb.propose_adds([kp]).propose_removals([bob_leaf]));
    let request = w.clients[0].signed(DsRequestBody::DeleteGroup(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::ProposalNotAllowed);
}

#[test]
fn adds_existing_user() {
    let mut w = world_with(&[BOB]);
    let kp = Client::new(BOB_LAPTOP).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::AddsExistingUser);

    // Alice's own second device, too.
    w.clients[0].discard();
    let kp = Client::new(ALICE_PHONE).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update.clone(), welcome.clone()));
    assert_rejected(&mut w, &request, DsErrorCode::AddsExistingUser);
    // As AddClients it is accepted.
    let request = w.clients[0].signed(add_clients(update, welcome));
    w.process(&request).unwrap();
}

fn connection_key_package(c: &Client) -> KeyPackage {
    c.key_package_with(
        Extensions::single(Extension::Unknown(
            CONNECTION_KEY_PACKAGE_EXTENSION,
            UnknownExtension(vec![]),
        ))
        .unwrap(),
    )
}

#[test]
fn connection_key_package_not_allowed_in_regular_group() {
    let mut w = World::new(ALICE);
    let kp = connection_key_package(&Client::new(BOB));
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    assert_rejected(
        &mut w,
        &request,
        DsErrorCode::ConnectionKeyPackageNotAllowed,
    );
}

#[test]
fn connection_key_package_accepted_in_connection_group() {
    let mut w = world_of(ALICE, GroupKind::Connection);
    assert_eq!(w.group.kind(), GroupKind::Connection);
    let kp = connection_key_package(&Client::new(BOB));
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    let outcome = w.process(&request).unwrap();
    assert!(outcome.effects.contains(&Effect::RosterChange {
        added: vec![ClientId::new(BOB).unwrap()],
        removed: vec![],
    }));
}

#[test]
fn welcome_mismatch_no_welcome() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    assert!(welcome.is_some());
    let request = w.clients[0].signed(add_users(update, None));
    assert_rejected(&mut w, &request, DsErrorCode::WelcomeMismatch);
}

#[test]
fn welcome_mismatch_duplicated_welcome() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let welcome = welcome.unwrap();
    let request = w.clients[0].signed(DsRequestBody::AddUsers(add_request(
        update,
        vec![welcome.clone(), welcome],
    )));
    assert_rejected(&mut w, &request, DsErrorCode::WelcomeMismatch);
}

#[test]
fn welcome_mismatch_welcome_of_another_commit() {
    let mut w = World::new(ALICE);
    let bob = Client::new(BOB);
    let (_, first_welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([bob.key_package()]));
    w.clients[0].discard();
    // Same user, a fresh key package: another KeyPackageRef.
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([bob.key_package()]));
    let request = w.clients[0].signed(add_users(update.clone(), first_welcome));
    assert_rejected(&mut w, &request, DsErrorCode::WelcomeMismatch);
    let request = w.clients[0].signed(add_users(update, welcome));
    w.process(&request).unwrap();
}

/// A Welcome with no `secrets` (framed by hand: openmls never builds one).
#[test]
fn welcome_mismatch_welcome_for_nobody() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    // MLSMessage{mls10, mls_welcome, Welcome{cipher_suite, secrets<V> = [], encrypted_group_info<V>}}
    let mut nobody = vec![0, 1, 0, 3];
    nobody.extend_from_slice(&u16::from(CS).to_be_bytes());
    nobody.push(0);
    nobody.extend_from_slice(&[4, 1, 2, 3, 4]);
    let request = w.clients[0].signed(DsRequestBody::AddUsers(add_request(
        update,
        vec![welcome.unwrap(), nobody],
    )));
    let err = assert_rejected(&mut w, &request, DsErrorCode::WelcomeMismatch);
    assert!(err.detail().contains("nobody"), "{err}");
}

#[test]
fn invalid_welcome() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let welcome = welcome.unwrap();
    let not_welcomes = [
        vec![0xba, 0xd0],
        welcome[..welcome.len() - 1].to_vec(),
        update.commit.as_slice().to_vec(),
        w.group.group_info().to_vec(),
    ];
    for bad in not_welcomes {
        let request = w.clients[0].signed(add_users(update.clone(), Some(bad)));
        assert_rejected(&mut w, &request, DsErrorCode::InvalidWelcome);
    }
}

#[test]
fn incomplete_user_removal() {
    let mut w = world_with(&[BOB, BOB_LAPTOP, CAROL]);
    let phone = leaf_of(&w, BOB);
    let laptop = leaf_of(&w, BOB_LAPTOP);
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([phone]));
    let request = w.clients[0].signed(DsRequestBody::RemoveUsers(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::IncompleteUserRemoval);
    w.clients[0].discard();
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([phone, laptop]));
    let request = w.clients[0].signed(DsRequestBody::RemoveUsers(update_request(update)));
    w.process(&request).unwrap();
    assert_eq!(w.group.roster().len(), 2);
}

#[test]
fn adds_foreign_client() {
    let mut w = World::new(ALICE);
    let kp = Client::new(BOB).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_clients(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::AddsForeignClient);
}

#[test]
fn removes_foreign_client() {
    let mut w = world_with(&[BOB]);
    w.add(ALICE, &[ALICE_PHONE], true);
    let bob_leaf = leaf_of(&w, BOB);
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([bob_leaf]));
    let request = w.clients[0].signed(DsRequestBody::RemoveClients(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::RemovesForeignClient);
    // Her own other device: accepted.
    w.clients[0].discard();
    let phone = leaf_of(&w, ALICE_PHONE);
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([phone]));
    let request = w.clients[0].signed(DsRequestBody::RemoveClients(update_request(update)));
    w.process(&request).unwrap();
}

#[test]
fn not_self_remove_remove_of_another_member() {
    let mut w = world_with(&[BOB, CAROL]);
    let carol_leaf = leaf_of(&w, CAROL);
    let proposal = propose_remove(&mut w, BOB, carol_leaf);
    let request = member(&w, BOB).signed(self_remove_body(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::NotSelfRemove);
}

#[test]
fn not_self_remove_update_proposal() {
    let mut w = world_with(&[BOB]);
    let proposal = {
        let c = client(&mut w, BOB);
        let provider = &c.provider;
        let signer = &c.signer;
        c.group
            .as_mut()
            .unwrap()
            .propose_self_update(provider, signer, LeafNodeParameters::default())
            .unwrap()
            .0
            .tls_serialize_detached()
            .unwrap()
    };
    let request = member(&w, BOB).signed(self_remove_body(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::NotSelfRemove);
}

#[test]
fn not_self_remove_external_proposal() {
    let mut w = world_with(&[BOB]);
    // The DS's own Remove of bob, relayed by bob as if it were his.
    let bob_leaf = leaf_of(&w, BOB);
    let proposal = ExternalProposal::new_remove::<OpenMlsRustCrypto>(
        bob_leaf,
        w.group.public_group().group_id().clone(),
        w.group.public_group().group_context().epoch(),
        &w.ds.signer,
        SenderExtensionIndex::new(0),
    )
    .unwrap()
    .tls_serialize_detached()
    .unwrap();
    let request = member(&w, BOB).signed(self_remove_body(proposal));
    assert_rejected(&mut w, &request, DsErrorCode::NotSelfRemove);
}

#[test]
fn self_remove_accepted_once() {
    let mut w = world_with(&[BOB]);
    let proposal = leave(&mut w, BOB);
    let request = member(&w, BOB).signed(self_remove_body(proposal));
    let outcome = w.process(&request).unwrap();
    assert!(outcome.state_changed);
    assert_eq!(group_messages(&outcome).len(), 1);
    // Sending it again changes nothing.
    let before = w.group.to_bytes().unwrap();
    let outcome = w.process(&request).unwrap();
    assert!(!outcome.state_changed);
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

/// `InvalidUpdate` for a missing path is unreachable: the only proposals the
/// DS stores by reference are Removes (self-removals and its own), and a
/// commit covering a Remove (or no proposal at all) needs a path by RFC 9420
/// §12.4, which openmls enforces before the engine's rules run. So a pathless
/// UpdateClient that commits a stored self-removal by reference, framed by
/// hand because openmls will not build it, is an `InvalidCommit`.
#[test]
fn invalid_update_pathless_update_client_is_an_invalid_commit() {
    let mut w = world_with(&[BOB]);
    let proposal = leave(&mut w, BOB);
    let outcome = w
        .process(&member(&w, BOB).signed(self_remove_body(proposal)))
        .unwrap();
    w.fan_out(&outcome, w.idx(BOB));
    let reference = w.clients[0]
        .group()
        .pending_proposals()
        .next()
        .unwrap()
        .proposal_reference_ref()
        .tls_serialize_detached()
        .unwrap();
    let by_reference = [&[2u8][..], &reference].concat(); // ProposalOrRef::reference
    let update = pathless_commit(&w, ALICE, &by_reference);
    let request = w.clients[0].signed(update_client(update));
    let err = assert_rejected(&mut w, &request, DsErrorCode::InvalidCommit);
    assert!(err.detail().contains("commit path"), "{err}");
}

/// A commit with neither proposals nor a path is refused by MLS validation
/// (RFC 9420 §12.4); the engine has no separate code for it.
#[test]
fn empty_commit_is_an_invalid_commit() {
    let mut w = world_with(&[BOB]);
    let update = pathless_commit(&w, ALICE, &[]);
    for body in [
        update_client(update.clone()),
        DsRequestBody::RemoveClients(update_request(update)),
    ] {
        let request = w.clients[0].signed(body);
        let err = assert_rejected(&mut w, &request, DsErrorCode::InvalidCommit);
        assert!(err.detail().contains("commit path"), "{err}");
    }
}

#[test]
fn invalid_external_join_member_commit_sent_as_external_join() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, BOB);
    assert_rejected(
        &mut w,
        &external_join(update),
        DsErrorCode::InvalidExternalJoin,
    );
}

/// A joiner whose key equals carol's: openmls's external commit then removes
/// carol's leaf (it takes a same-key leaf for the joiner's old one).
#[test]
fn invalid_external_join_removes_another_member() {
    let mut w = world_with(&[BOB, CAROL]);
    let info = external_info(&mut w, BOB_LAPTOP);
    let c = w.idx(CAROL);
    let mut joiner = Client::with_signer(BOB_LAPTOP, copy_signer(&w.clients[c].signer));
    let update = joiner.external_join(&info);
    assert_rejected(
        &mut w,
        &external_join(update),
        DsErrorCode::InvalidExternalJoin,
    );
}

#[test]
fn external_join_not_allowed_for_a_non_member_user() {
    let mut w = world_with(&[BOB]);
    // A member fetched the info; a client of another user uses it.
    let info = external_info(&mut w, BOB);
    let mut eve = Client::new(EVE);
    let update = eve.external_join(&info);
    assert_rejected(
        &mut w,
        &external_join(update),
        DsErrorCode::ExternalJoinNotAllowed,
    );
    // A new device of a member user may join.
    let mut laptop = Client::new(BOB_LAPTOP);
    let update = laptop.external_join(&info);
    let outcome = w.process(&external_join(update)).unwrap();
    assert!(outcome.effects.contains(&Effect::RosterChange {
        added: vec![ClientId::new(BOB_LAPTOP).unwrap()],
        removed: vec![],
    }));
}

#[test]
fn external_join_resync_accepted() {
    let mut w = world_with(&[BOB]);
    let info = external_info(&mut w, BOB);
    let b = w.idx(BOB);
    let mut resynced = Client::with_signer(BOB, copy_signer(&w.clients[b].signer));
    let update = resynced.external_join(&info);
    let outcome = w.process(&external_join(update)).unwrap();
    assert!(outcome.effects.contains(&Effect::RosterChange {
        added: vec![],
        removed: vec![],
    }));
}

#[test]
fn unauthorized_external_commit_info() {
    let mut w = world_with(&[BOB]);
    let request = external_info_request(&w, EVE);
    // Not verified by the caller, or verified for another client.
    assert_rejected_as(&mut w, &request, None, DsErrorCode::Unauthorized);
    assert_rejected_as(&mut w, &request, Some(ALICE), DsErrorCode::Unauthorized);
    // Verified, but eve's user is not a member.
    assert_rejected_as(&mut w, &request, Some(EVE), DsErrorCode::Unauthorized);
    let alice = external_info_request(&w, ALICE_PHONE);
    assert_rejected_as(&mut w, &alice, Some(EVE), DsErrorCode::Unauthorized);
    // Members, and other devices of member users, may fetch it.
    external_info(&mut w, ALICE);
    external_info(&mut w, ALICE_PHONE);
}

#[test]
fn wrong_group_external_commit_info() {
    let mut w = world_with(&[BOB]);
    let request = registered(
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: GroupId::new("other@ds-a.example").unwrap(),
        }),
        ALICE,
    );
    assert_rejected_as(&mut w, &request, Some(ALICE), DsErrorCode::WrongGroup);
}

#[test]
fn wrong_auth_type_external_commit_info_without_registered_client() {
    let mut w = world_with(&[BOB]);
    let body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
        group_id: w.group.group_id().clone(),
    });
    // Anonymous, even with a requester the caller vouches for.
    let anonymous = anonymous(body.clone());
    assert_rejected_as(&mut w, &anonymous, Some(ALICE), DsErrorCode::WrongAuthType);
    // A member's ClientSignature is not a registered client's.
    let signed = w.clients[0].signed(body.clone());
    assert_rejected_as(&mut w, &signed, Some(ALICE), DsErrorCode::WrongAuthType);
    let joiner = w.clients[0].joiner_signed(body, &[1; 32]);
    assert_rejected_as(&mut w, &joiner, Some(ALICE), DsErrorCode::WrongAuthType);
}

/// `RegisteredClient` is refused by every operation but
/// `external_commit_info` (and the key-package fetches, which the engine does
/// not serve), even when the caller verified it.
#[test]
fn wrong_auth_type_registered_client_where_it_does_not_belong() {
    let mut w = world_with(&[BOB]);
    let update = self_update(&mut w, ALICE);
    let as_alice = |body| registered(body, ALICE);
    let commit = as_alice(update_client(update.clone()));
    assert_rejected_as(&mut w, &commit, Some(ALICE), DsErrorCode::WrongAuthType);
    let delete = as_alice(DsRequestBody::DeleteGroup(update_request(update)));
    assert_rejected_as(&mut w, &delete, Some(ALICE), DsErrorCode::WrongAuthType);
    w.clients[0].discard();
    let message = client(&mut w, BOB).message(b"hi");
    let send = registered(send_message(message), BOB);
    assert_rejected_as(&mut w, &send, Some(BOB), DsErrorCode::WrongAuthType);
    let proposal = leave(&mut w, BOB);
    let remove = registered(self_remove_body(proposal), BOB);
    assert_rejected_as(&mut w, &remove, Some(BOB), DsErrorCode::WrongAuthType);
    let welcome_info = as_alice(DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
        group_id: w.group.group_id().clone(),
        epoch: 1,
    }));
    assert_rejected_as(
        &mut w,
        &welcome_info,
        Some(ALICE),
        DsErrorCode::WrongAuthType,
    );
    let info = external_info(&mut w, ALICE_PHONE);
    let mut phone = Client::new(ALICE_PHONE);
    let join = registered(
        DsRequestBody::ExternalJoin(update_request(phone.external_join(&info))),
        ALICE_PHONE,
    );
    assert_rejected_as(&mut w, &join, Some(ALICE_PHONE), DsErrorCode::WrongAuthType);
}

/// The per-operation table of spec §7.3 for `RegisteredClient`, as a DS
/// applies it before verifying the signature.
#[test]
fn registered_client_is_accepted_only_by_its_operations() {
    use ds_core::group::{accepts_registered_client, registered_client_auth};
    let w = world_with(&[BOB]);
    let group_id = w.group.group_id().clone();
    let update = || {
        update_request(MlsGroupUpdate {
            commit: Bytes::new(vec![1]).unwrap(),
            partial_group_info: PartialGroupInfo {
                group_info_extensions: Bytes::default(),
                signature: Bytes::new(vec![2]).unwrap(),
            },
        })
    };
    let add = || AddRequest {
        group_update: update().group_update,
        welcomes: List::default(),
    };
    let bodies = vec![
        DsRequestBody::RequestGroupId,
        DsRequestBody::CreateGroup(CreateGroupRequest {
            group_id: group_id.clone(),
            group_kind: GroupKind::Regular,
            leaf_node: Bytes::new(vec![3]).unwrap(),
            group_info: Bytes::new(vec![4]).unwrap(),
        }),
        DsRequestBody::DeleteGroup(update()),
        DsRequestBody::AddUsers(add()),
        DsRequestBody::RemoveUsers(update()),
        DsRequestBody::AddClients(add()),
        DsRequestBody::RemoveClients(update()),
        DsRequestBody::SelfRemoveClient(SelfRemoveClientRequest {
            proposal: Bytes::new(vec![5]).unwrap(),
        }),
        DsRequestBody::UpdateClient(update()),
        DsRequestBody::ExternalJoin(update()),
        send_message(vec![6]),
        DsRequestBody::SignaturePublicKey,
        DsRequestBody::KeyPackages(KeyPackagesRequest {
            client_ids: List::new(vec![ClientId::new(BOB).unwrap()]).unwrap(),
        }),
        DsRequestBody::ConnectionKeyPackages(ConnectionKeyPackagesRequest {
            user_id: UserId::new("bob@ds-b.example").unwrap(),
        }),
        DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
            group_id: group_id.clone(),
            epoch: 1,
        }),
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest { group_id }),
    ];
    let mut accepting = Vec::new();
    for body in bodies {
        let op = body.operation();
        let request = registered(body.clone(), ALICE);
        match registered_client_auth(&request) {
            Ok(Some(rc)) => {
                assert!(accepts_registered_client(op));
                assert_eq!(rc.client_id.as_str(), ALICE);
                accepting.push(op.name());
            }
            Ok(None) => panic!("{}: the RegisteredClient auth was not seen", op.name()),
            Err(e) => {
                assert!(!accepts_registered_client(op));
                assert_eq!(e.code, DsErrorCode::WrongAuthType, "{}", op.name());
            }
        }
        // Other auth types are not this check's business.
        assert_eq!(registered_client_auth(&anonymous(body)).unwrap(), None);
    }
    assert_eq!(
        accepting,
        [
            "key_packages",
            "connection_key_packages",
            "external_commit_info"
        ]
    );
}

#[test]
fn incomplete_group_deletion() {
    let mut w = world_with(&[BOB, CAROL]);
    let bob_leaf = leaf_of(&w, BOB);
    let carol_leaf = leaf_of(&w, CAROL);
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([bob_leaf]));
    let request = w.clients[0].signed(DsRequestBody::DeleteGroup(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::IncompleteGroupDeletion);
    // A plain update deletes nobody.
    w.clients[0].discard();
    let update = self_update(&mut w, ALICE);
    let request = w.clients[0].signed(DsRequestBody::DeleteGroup(update_request(update)));
    assert_rejected(&mut w, &request, DsErrorCode::IncompleteGroupDeletion);
    w.clients[0].discard();
    let (update, _) = w.clients[0].commit_with(|cb| cb.propose_removals([bob_leaf, carol_leaf]));
    let request = w.clients[0].signed(DsRequestBody::DeleteGroup(update_request(update)));
    let outcome = w.process(&request).unwrap();
    assert_eq!(outcome.effects.last(), Some(&Effect::GroupDeleted));
}

fn update_with_credential(w: &mut World, by: &str, identity: &[u8]) -> MlsGroupUpdate {
    let c = client(w, by);
    let credential = CredentialWithKey {
        credential: BasicCredential::new(identity.to_vec()).into(),
        signature_key: c.signer.public().into(),
    };
    c.commit_with(|cb| {
        cb.leaf_node_parameters(
            LeafNodeParameters::builder()
                .with_credential_with_key(credential)
                .build(),
        )
    })
    .0
}

#[test]
fn credential_changed_by_update_path() {
    let mut w = world_with(&[BOB]);
    for identity in [CAROL, ALICE_PHONE] {
        let update = update_with_credential(&mut w, ALICE, identity.as_bytes());
        let request = w.clients[0].signed(update_client(update));
        assert_rejected(&mut w, &request, DsErrorCode::CredentialChanged);
        w.clients[0].discard();
    }
}

#[test]
fn credential_changed_with_a_new_signature_key() {
    let mut w = world_with(&[BOB]);
    let new_signer = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(CAROL.as_bytes().to_vec()).into(),
        signature_key: new_signer.public().into(),
    };
    let c = &mut w.clients[0];
    let provider = &c.provider;
    let bundle = c
        .group
        .as_mut()
        .unwrap()
        .commit_builder()
        .load_psks(provider.storage())
        .unwrap()
        .create_group_info(true)
        .build_with_new_signer(
            provider.rand(),
            provider.crypto(),
            &c.signer,
            NewSignerBundle {
                signer: &new_signer,
                credential_with_key: credential,
            },
            |_| true,
        )
        .unwrap()
        .stage_commit(provider)
        .unwrap();
    let (update, _) = pack_bundle(bundle);
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::CredentialChanged);
}

#[test]
fn invalid_credential_in_update_path_and_key_package() {
    let mut w = world_with(&[BOB]);
    let update = update_with_credential(&mut w, ALICE, b"not a client id");
    let request = w.clients[0].signed(update_client(update));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidCredential);
    w.clients[0].discard();

    let kp = client_with_identity(b"carol@ds-a.example").key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::InvalidCredential);
}

#[test]
fn invalid_credential_of_an_external_joiner() {
    let mut w = world_with(&[BOB]);
    let info = external_info(&mut w, BOB);
    let mut joiner = client_with_identity(b"bob@ds-b.example");
    let update = joiner.external_join(&info);
    assert_rejected(
        &mut w,
        &external_join(update),
        DsErrorCode::InvalidCredential,
    );
}

#[test]
fn duplicate_client_adds_the_committers_own_id() {
    let mut w = World::new(ALICE);
    // Another device claiming alice's laptop's client id.
    let kp = Client::new(ALICE).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_clients(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::DuplicateClient);
}

#[test]
fn duplicate_client_adds_a_member_again() {
    let mut w = World::new(ALICE);
    w.add(ALICE, &[ALICE_PHONE], true);
    let kp = Client::new(ALICE_PHONE).key_package();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_clients(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::DuplicateClient);
}

#[test]
fn duplicate_client_twice_in_one_commit() {
    let mut w = World::new(ALICE);
    let kps = [
        Client::new(BOB).key_package(),
        Client::new(BOB).key_package(),
    ];
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds(kps));
    let request = w.clients[0].signed(add_users(update, welcome));
    assert_rejected(&mut w, &request, DsErrorCode::DuplicateClient);
}

/// A device that lost its state and its key cannot resync: its new leaf
/// would sit beside its old one.
#[test]
fn duplicate_client_external_join_beside_the_old_leaf() {
    let mut w = world_with(&[BOB]);
    let info = external_info(&mut w, BOB);
    let mut bob_again = Client::new(BOB);
    let update = bob_again.external_join(&info);
    assert_rejected(&mut w, &external_join(update), DsErrorCode::DuplicateClient);
}

#[test]
fn not_a_member_ds_remove() {
    let mut w = world_with(&[BOB]);
    let before = w.group.to_bytes().unwrap();
    for target in [EVE, BOB_LAPTOP] {
        let target = ClientId::new(target).unwrap();
        let err = w
            .group
            .ds_remove(&w.ds.ctx, &target, &w.ds.signer)
            .expect_err("removed a non-member");
        assert_eq!(err.code, DsErrorCode::NotAMember, "{err}");
        assert_eq!(w.group.to_bytes().unwrap(), before);
    }
    // A member: accepted.
    let bob = ClientId::new(BOB).unwrap();
    assert!(
        w.group
            .ds_remove(&w.ds.ctx, &bob, &w.ds.signer)
            .unwrap()
            .state_changed
    );
}

// ---------------------------------------------------------------------------
// Welcome info
// ---------------------------------------------------------------------------

/// Alice adds bob (who has not joined yet); returns bob and his KeyPackageRef.
fn added_not_joined(w: &mut World) -> (Client, Vec<u8>) {
    let bob = Client::new(BOB);
    let kp = bob.key_package();
    let kp_ref = kp
        .hash_ref(bob.provider.crypto())
        .unwrap()
        .as_slice()
        .to_vec();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[0].signed(add_users(update, welcome));
    w.process(&request).unwrap();
    w.clients[0].merge();
    (bob, kp_ref)
}

fn welcome_info_body(w: &World, epoch: u64) -> DsRequestBody {
    DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
        group_id: w.group.group_id().clone(),
        epoch,
    })
}

#[test]
fn no_welcome_info_wrong_epoch_or_key_package() {
    let mut w = World::new(ALICE);
    let (bob, kp_ref) = added_not_joined(&mut w);
    for epoch in [0, 2] {
        let request = bob.joiner_signed(welcome_info_body(&w, epoch), &kp_ref);
        assert_rejected(&mut w, &request, DsErrorCode::NoWelcomeInfo);
    }
    let request = bob.joiner_signed(welcome_info_body(&w, 1), &flipped(&kp_ref, 0));
    assert_rejected(&mut w, &request, DsErrorCode::NoWelcomeInfo);
    // Right epoch and key package: the tree, read-only.
    let request = bob.joiner_signed(welcome_info_body(&w, 1), &kp_ref);
    let before = w.group.to_bytes().unwrap();
    let outcome = w.process(&request).unwrap();
    assert!(matches!(outcome.response, DsResponseBody::WelcomeInfo(_)));
    assert!(!outcome.state_changed);
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

#[test]
fn no_welcome_info_once_the_joiner_is_active() {
    let mut w = World::new(ALICE);
    let bob = Client::new(BOB);
    let kp = bob.key_package();
    let kp_ref = kp
        .hash_ref(bob.provider.crypto())
        .unwrap()
        .as_slice()
        .to_vec();
    let (update, welcome) = w.clients[0].commit_with(|cb| cb.propose_adds([kp]));
    let welcome = welcome.unwrap();
    let outcome = w
        .process(&w.clients[0].signed(add_users(update, Some(welcome.clone()))))
        .unwrap();
    w.clients[0].merge();
    w.fan_out(&outcome, 0);
    let mut bob = bob;
    let gid = w.group.group_id().clone();
    bob.join(&welcome, &gid, |r| w.group.process(&w.ds.ctx, r, None, NOW))
        .unwrap();
    w.clients.push(bob);
    // Bob speaks: he no longer needs the tree.
    let message = client(&mut w, BOB).message(b"hi");
    let outcome = w
        .process(&member(&w, BOB).signed(send_message(message)))
        .unwrap();
    assert!(outcome.state_changed);
    let request = member(&w, BOB).joiner_signed(welcome_info_body(&w, 1), &kp_ref);
    assert_rejected(&mut w, &request, DsErrorCode::NoWelcomeInfo);
}

#[test]
fn invalid_client_signature_welcome_info_by_another_key() {
    let mut w = World::new(ALICE);
    let (_bob, kp_ref) = added_not_joined(&mut w);
    let eve = Client::new(EVE);
    let request = eve.joiner_signed(welcome_info_body(&w, 1), &kp_ref);
    assert_rejected(&mut w, &request, DsErrorCode::InvalidClientSignature);
}

// ---------------------------------------------------------------------------
// Stored state
// ---------------------------------------------------------------------------

#[test]
fn corrupt_state() {
    let w = world_with(&[BOB]);
    let good = w.group.to_bytes().unwrap();
    assert_eq!(&good[..2], &STATE_FORMAT.to_be_bytes());
    let mut wrong_format = good.clone();
    wrong_format[..2].copy_from_slice(&(STATE_FORMAT + 1).to_be_bytes());
    let mut format_zero = good.clone();
    format_zero[..2].copy_from_slice(&[0, 0]);
    let corrupt = [
        vec![],
        vec![0],
        STATE_FORMAT.to_be_bytes().to_vec(),
        vec![0xff; 64],
        wrong_format,
        format_zero,
        good[..good.len() / 2].to_vec(),
        [&STATE_FORMAT.to_be_bytes()[..], &[0xff; 300]].concat(),
    ];
    for bytes in corrupt {
        let err = DsGroup::from_bytes(&bytes).expect_err("restored garbage");
        assert_eq!(err.code, DsErrorCode::CorruptState, "{err}");
    }
    let restored = DsGroup::from_bytes(&good).unwrap();
    assert_eq!(restored.to_bytes().unwrap(), good);
}

// ---------------------------------------------------------------------------
// create_group
// ---------------------------------------------------------------------------

fn ds_extensions(ds: &Ds) -> Extensions<GroupContext> {
    Extensions::single(ds.external_senders()).unwrap()
}

#[test]
fn create_accepted() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let request = create_request(&mut alice, &format!("g9@{DOMAIN}"), ds_extensions(&ds));
    let (group, outcome): (DsGroup, Outcome) = DsGroup::create(&ds.ctx, &request, NOW).unwrap();
    assert_eq!(group.epoch(), 0);
    assert!(outcome.state_changed);
}

#[test]
fn invalid_group_id_of_another_domain() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    // A consistent request, but for a group id of ds-b.
    let request = create_request(&mut alice, "g1@ds-b.example", ds_extensions(&ds));
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupId);
}

#[test]
fn invalid_group_id_group_info_names_another_group() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = create_request(&mut alice, &format!("g1@{DOMAIN}"), ds_extensions(&ds));
    request.group_id = GroupId::new(&format!("g2@{DOMAIN}")).unwrap();
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupId);
}

#[test]
fn invalid_leaf_node_garbage() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let good = alice.create_group(&ds, "g1", GroupKind::Regular);
    let leaf = good.leaf_node.as_slice();
    for bad in [
        vec![],
        vec![0xde, 0xad],
        leaf[..leaf.len() - 1].to_vec(),
        [leaf, &[0]].concat(),
    ] {
        let mut request = good.clone();
        request.leaf_node = Bytes::new(bad).unwrap();
        assert_create_rejected(&ds, &request, DsErrorCode::InvalidLeafNode);
    }
}

#[test]
fn invalid_leaf_node_bad_signature() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    let leaf = request.leaf_node.as_slice();
    let n = leaf.len();
    assert_eq!(leaf[n - 65], 64, "LeafNode ends with signature<V>");
    request.leaf_node = Bytes::new(flipped(leaf, n - 10)).unwrap();
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidLeafNode);
}

/// A valid LeafNode of another client (same group id) with alice's GroupInfo:
/// each is valid on its own, but the GroupInfo's signature does not verify
/// under the tree's signer leaf, nor does its tree hash match. RFC 9420
/// §12.4.3 makes both GroupInfo checks, so the answer is `InvalidGroupInfo`.
#[test]
fn invalid_group_info_for_another_leaf_node() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut bob = Client::new(BOB);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    let bobs = bob.create_group(&ds, "g1", GroupKind::Regular);
    request.leaf_node = bobs.leaf_node;
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupInfo);
}

#[test]
fn invalid_group_info_signed_by_another_key() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    let other = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
    let group_info = alice
        .group()
        .export_group_info(alice.provider.crypto(), &other, false)
        .unwrap()
        .tls_serialize_detached()
        .unwrap();
    request.group_info = Bytes::new(group_info).unwrap();
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupInfo);
}

#[test]
fn invalid_group_info_epoch_not_zero() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    // Alice moves her group to epoch 1 and describes that.
    alice.commit_with(|cb| cb.force_self_update(true));
    alice.merge();
    let group = alice.group();
    assert_eq!(group.epoch().as_u64(), 1);
    request.leaf_node = Bytes::new(
        group
            .own_leaf_node()
            .unwrap()
            .tls_serialize_detached()
            .unwrap(),
    )
    .unwrap();
    request.group_info = Bytes::new(
        group
            .export_group_info(alice.provider.crypto(), &alice.signer, false)
            .unwrap()
            .tls_serialize_detached()
            .unwrap(),
    )
    .unwrap();
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupInfo);
}

#[test]
fn invalid_group_info_not_a_group_info() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    let key_package = MlsMessageOut::from(alice.key_package())
        .tls_serialize_detached()
        .unwrap();
    request.group_info = Bytes::new(key_package).unwrap();
    assert_create_rejected(&ds, &request, DsErrorCode::InvalidGroupInfo);
}

#[test]
fn malformed_message_garbage_group_info() {
    let ds = Ds::new();
    let mut alice = Client::new(ALICE);
    let mut request = alice.create_group(&ds, "g1", GroupKind::Regular);
    let gi = request.group_info.as_slice().to_vec();
    for bad in [vec![], vec![0, 1, 0, 4, 0xff], gi[..gi.len() - 1].to_vec()] {
        request.group_info = Bytes::new(bad).unwrap();
        assert_create_rejected(&ds, &request, DsErrorCode::MalformedMessage);
    }
}

#[test]
fn missing_external_sender() {
    let ds = Ds::new();
    let other_ds = Ds::new();
    let wrong_credential = Extension::ExternalSenders(vec![ExternalSender::new(
        ds.ctx.ds_signature_key().clone(),
        BasicCredential::new(b"ds-b.example".to_vec()).into(),
    )]);
    for extensions in [
        Extensions::empty(),
        ds_extensions(&other_ds),
        Extensions::single(wrong_credential).unwrap(),
    ] {
        let mut alice = Client::new(ALICE);
        let request = create_request(&mut alice, &format!("g1@{DOMAIN}"), extensions);
        assert_create_rejected(&ds, &request, DsErrorCode::MissingExternalSender);
    }
}

#[test]
fn invalid_credential_of_the_creator() {
    let ds = Ds::new();
    for identity in [&b"alice"[..], b"alice@ds-a.example", &[0xff, 0xfe]] {
        let mut creator = client_with_identity(identity);
        let request = create_request(&mut creator, &format!("g1@{DOMAIN}"), ds_extensions(&ds));
        assert_create_rejected(&ds, &request, DsErrorCode::InvalidCredential);
    }
}
