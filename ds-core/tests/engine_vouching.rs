//! Vouchers of new members of other domains (spec §11.4), the issuers the
//! server fetches keys of beforehand, and `VouchedClient` requests (spec
//! §7.5), with real openmls clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ds_core::group::{EngineContext, voucher_issuers, voucher_key_ids};
use ds_core::queue::{sign_vouched_request, verify_vouched_client};
use ds_core::wire::*;
use openmls::prelude::{Extension, KeyPackage, UnknownExtension};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::types::SignatureScheme;
use tls_codec::Serialize as _;

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-b.example/phone";
const BOB_LAPTOP: &str = "bob@ds-b.example/laptop";
const CAROL: &str = "carol@ds-c.example/phone";
const XAVER: &str = "xaver@ds-x.example/phone";

fn ds_b() -> Domain {
    Domain::new("ds-b.example").unwrap()
}

fn own() -> Domain {
    Domain::new(DOMAIN).unwrap()
}

/// `by` commits Adds of `new`'s key packages as AddUsers (or AddClients);
/// returns the signed request and the Welcome.
fn add_request_for(
    w: &mut World,
    by: &str,
    kps: Vec<KeyPackage>,
    add_clients: bool,
) -> (DsRequest, Vec<u8>) {
    let b = w.idx(by);
    let (update, welcome) = w.clients[b].commit_with(|cb| cb.propose_adds(kps));
    let welcome = welcome.unwrap();
    let req = add_request(update, vec![welcome.clone()]);
    let body = if add_clients {
        DsRequestBody::AddClients(req)
    } else {
        DsRequestBody::AddUsers(req)
    };
    (w.clients[b].signed(body), welcome)
}

/// Alice tries to add `new`; the request must be refused as unvouched
/// with a detail containing `why`, and the DS state must stay as it was.
fn assert_unvouched(new: Client, why: &str) {
    let mut w = World::new(ALICE);
    let before = w.group.to_bytes().unwrap();
    let (request, _) = add_request_for(&mut w, ALICE, vec![new.key_package()], false);
    let err = w.process(&request).unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient, "{err}");
    assert!(err.detail().contains(why), "{why:?} not in {err}");
    assert_eq!(w.group.to_bytes().unwrap(), before, "state changed");
    assert_eq!(w.group.epoch(), 0);
}

fn bob_voucher(client: &Client, signature_key: &[u8], not_after: u64) -> ClientVoucher {
    voucher_by(
        "ds-b.example",
        home_ds_key("ds-b.example"),
        &client.id,
        signature_key,
        not_after,
    )
}

#[test]
fn a_vouched_client_of_another_domain_is_added_and_joins() {
    let mut w = World::new(ALICE);
    let bob = Client::new(BOB);
    assert!(bob.voucher.is_some());
    let kp = bob.key_package();
    let voucher_type = openmls::prelude::ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE);
    assert!(
        kp.leaf_node()
            .capabilities()
            .extensions()
            .contains(&voucher_type)
    );
    let outcome = w.add(ALICE, &[BOB, CAROL], false);
    assert!(outcome.state_changed);
    assert!(w.group.roster().contains(&ClientId::new(BOB).unwrap()));
    assert!(w.group.roster().contains(&ClientId::new(CAROL).unwrap()));
    w.assert_converged();
    // AddClients of bob's second device, by bob, is checked the same way.
    w.add(BOB, &[BOB_LAPTOP], true);
    w.assert_converged();
}

#[test]
fn a_client_of_another_domain_without_voucher_is_refused() {
    assert_unvouched(Client::new(BOB).with_voucher(None), "carries no voucher");
}

#[test]
fn own_domain_clients_need_no_voucher() {
    let mut w = World::new(ALICE);
    let dave = Client::new("dave@ds-a.example/phone");
    assert!(dave.voucher.is_none());
    w.add(ALICE, &["dave@ds-a.example/phone"], false);
    w.assert_converged();
}

#[test]
fn add_clients_without_voucher_is_refused_too() {
    let mut w = World::new(ALICE);
    w.add(ALICE, &[BOB], false);
    let before = w.group.to_bytes().unwrap();
    let laptop = Client::new(BOB_LAPTOP).with_voucher(None);
    let (request, _) = add_request_for(&mut w, BOB, vec![laptop.key_package()], true);
    let err = w.process(&request).unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient, "{err}");
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

#[test]
fn one_unvouched_client_refuses_the_whole_add() {
    let mut w = World::new(ALICE);
    let before = w.group.to_bytes().unwrap();
    let carol = Client::new(CAROL);
    let bob = Client::new(BOB).with_voucher(None);
    let (request, _) = add_request_for(
        &mut w,
        ALICE,
        vec![carol.key_package(), bob.key_package()],
        false,
    );
    let err = w.process(&request).unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient);
    assert!(err.detail().contains(BOB), "{err}");
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

#[test]
fn a_voucher_for_another_key_is_refused() {
    let bob = Client::new(BOB);
    let other = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    let v = bob_voucher(&bob, other.public(), NOW + 60);
    assert_unvouched(bob.with_voucher(Some(v)), "another signature key");
}

#[test]
fn a_voucher_for_another_client_is_refused() {
    let bob = Client::new(BOB);
    let laptop = Client::new(BOB_LAPTOP);
    let v = bob_voucher(&laptop, bob.signer.public(), NOW + 60);
    assert_unvouched(bob.with_voucher(Some(v)), "is for bob@ds-b.example/laptop");
}

#[test]
fn an_expired_voucher_is_refused() {
    let bob = Client::new(BOB);
    let v = bob_voucher(&bob, bob.signer.public(), NOW - 1);
    assert_unvouched(bob.with_voucher(Some(v)), "expired");
}

#[test]
fn a_voucher_of_a_third_domain_is_refused() {
    // ds-c.example (whose keys the DS knows) vouches for a ds-b client.
    let bob = Client::new(BOB);
    let v = voucher_by(
        "ds-c.example",
        home_ds_key("ds-c.example"),
        &bob.id,
        bob.signer.public(),
        NOW + 60,
    );
    assert_unvouched(bob.with_voucher(Some(v)), "only a client's home DS");
}

#[test]
fn a_voucher_signed_by_an_unpublished_key_is_refused() {
    let bob = Client::new(BOB);
    // Signed by a key ds-b.example does not publish, under the published id.
    let v = voucher_by(
        "ds-b.example",
        home_ds_key("ds-x.example"),
        &bob.id,
        bob.signer.public(),
        NOW + 60,
    );
    assert_unvouched(bob.with_voucher(Some(v)), "does not verify");
    // Under an id ds-b.example does not publish.
    let bob = Client::new(BOB);
    let mut v = bob_voucher(&bob, bob.signer.public(), NOW + 60);
    v.key_id = ShortBytes::new(b"k9".to_vec()).unwrap();
    assert_unvouched(bob.with_voucher(Some(v)), "no valid signing key with id");
}

#[test]
fn a_voucher_with_a_bad_signature_is_refused() {
    let bob = Client::new(BOB);
    let mut v = bob_voucher(&bob, bob.signer.public(), NOW + 60);
    let mut signature = v.signature.as_slice().to_vec();
    signature[0] ^= 1;
    v.signature = ShortBytes::new(signature).unwrap();
    assert_unvouched(bob.with_voucher(Some(v)), "does not verify");
}

#[test]
fn a_client_of_a_domain_with_unknown_keys_is_refused() {
    // ds-x.example vouches for its own client, but the DS knows no keys of it.
    let x = Client::new(XAVER);
    let v = voucher_by(
        "ds-x.example",
        home_ds_key("ds-x.example"),
        &x.id,
        x.signer.public(),
        NOW + 60,
    );
    assert_unvouched(
        x.with_voucher(Some(v)),
        "no signing keys of ds-x.example are known",
    );
}

#[test]
fn a_malformed_voucher_extension_is_refused() {
    let bob = Client::new(BOB);
    let v = bob_voucher(&bob, bob.signer.public(), NOW + 60);
    let mut bytes = v.tls_serialize_detached().unwrap();
    bytes.push(0); // a trailing byte
    let kp = key_package_with_leaf_extension(&bob, bytes);
    let mut w = World::new(ALICE);
    let before = w.group.to_bytes().unwrap();
    let (request, _) = add_request_for(&mut w, ALICE, vec![kp], false);
    let err = w.process(&request).unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient);
    assert!(err.detail().contains("malformed"), "{err}");
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

/// A key package of `client` whose leaf carries `data` as the voucher extension.
fn key_package_with_leaf_extension(client: &Client, data: Vec<u8>) -> KeyPackage {
    use openmls::prelude::{Capabilities, ExtensionType, Extensions};
    let extension = Extension::Unknown(VOUCHER_EXTENSION_TYPE, UnknownExtension(data));
    let types = [ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE)];
    KeyPackage::builder()
        .leaf_node_extensions(Extensions::single(extension).unwrap())
        .leaf_node_capabilities(Capabilities::new(None, None, Some(&types), None, None))
        .build(
            CS,
            &client.provider,
            &client.signer,
            client.credential.clone(),
        )
        .unwrap()
        .key_package()
        .clone()
}

#[test]
fn without_voucher_keys_every_foreign_client_is_unvouched() {
    let signer = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
    let ctx = EngineContext::new(own(), signer.public().to_vec());
    assert!(ctx.voucher_keys().is_none());
    let ds = Ds { ctx, signer };
    let mut alice = Client::new(ALICE);
    let create = alice.create_group(&ds, "g1", GroupKind::Regular);
    let (group, _) = ds_core::group::DsGroup::create(&ds.ctx, &create, NOW).unwrap();
    let mut w = World {
        ds,
        group,
        clients: vec![alice],
    };
    let (request, _) = add_request_for(&mut w, ALICE, vec![Client::new(BOB).key_package()], false);
    let err = w.process(&request).unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient);
    assert!(
        err.detail()
            .contains("no signing keys of ds-b.example are known"),
        "{err}"
    );
}

/// The VouchedClient request `client` sends for the group's external commit info.
fn vouched_info_request(w: &World, client: &Client) -> DsRequest {
    sign_vouched_request(
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: w.group.group_id().clone(),
        }),
        client.voucher.clone().unwrap(),
        NOW,
        vec![3; 16],
        &client.signer,
    )
    .unwrap()
}

/// The server's side: verify the request with the issuer's keys, then ask
/// the engine with the verified requester.
fn external_info(w: &mut World, request: &DsRequest) -> Result<ExternalCommitInfo, DsError> {
    let keys = KnownKeys::of_known_domains().0[&ds_b()].clone();
    let requester = verify_vouched_client(request, &keys, &own(), NOW, 300)?.clone();
    match w
        .group
        .process(&w.ds.ctx, request, Some(&requester), NOW)?
        .response
    {
        DsResponseBody::ExternalCommitInfo(info) => Ok(info),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_vouched_client_of_a_member_user_joins_externally() {
    let mut w = World::new(ALICE);
    w.add(ALICE, &[BOB], false);
    let mut laptop = Client::new(BOB_LAPTOP);
    let request = vouched_info_request(&w, &laptop);
    let info = external_info(&mut w, &request).unwrap();
    let update = laptop.external_join(&info);
    let join = anonymous(DsRequestBody::ExternalJoin(update_request(update)));
    assert_eq!(voucher_issuers(&join, &own()), vec![ds_b()]);
    let voucher = laptop.voucher.clone().unwrap();
    assert_eq!(
        voucher_key_ids(&join, &own()),
        vec![(ds_b(), voucher.key_id.as_slice().to_vec())],
        "the joiner's leaf voucher names the key to know"
    );
    let outcome = w.process(&join).unwrap();
    w.fan_out(&outcome, usize::MAX);
    w.clients.push(laptop);
    assert!(
        w.group
            .roster()
            .contains(&ClientId::new(BOB_LAPTOP).unwrap())
    );
    w.assert_converged();
}

#[test]
fn an_external_join_without_voucher_is_refused() {
    let mut w = World::new(ALICE);
    w.add(ALICE, &[BOB], false);
    let with_voucher = Client::new(BOB_LAPTOP);
    let request = vouched_info_request(&w, &with_voucher);
    let info = external_info(&mut w, &request).unwrap();
    let mut laptop = Client::with_signer(BOB_LAPTOP, with_voucher.signer).with_voucher(None);
    let update = laptop.external_join(&info);
    let before = w.group.to_bytes().unwrap();
    let err = w
        .process(&anonymous(DsRequestBody::ExternalJoin(update_request(
            update,
        ))))
        .unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnvouchedClient, "{err}");
    assert_eq!(w.group.to_bytes().unwrap(), before);
}

#[test]
fn external_commit_info_for_a_vouched_client_needs_the_verified_requester_of_a_member_user() {
    let mut w = World::new(ALICE);
    w.add(ALICE, &[BOB], false);
    let laptop = Client::new(BOB_LAPTOP);
    let request = vouched_info_request(&w, &laptop);
    // Not verified by the caller (no requester, or another one).
    for requester in [None, Some(ClientId::new(BOB).unwrap())] {
        let err = w
            .group
            .process(&w.ds.ctx, &request, requester.as_ref(), NOW)
            .unwrap_err();
        assert_eq!(err.code, DsErrorCode::Unauthorized, "{err}");
    }
    // A vouched client of a user who is not a member.
    let carol = Client::new(CAROL);
    let request = vouched_info_request(&w, &carol);
    let carol_id = ClientId::new(CAROL).unwrap();
    let err = w
        .group
        .process(&w.ds.ctx, &request, Some(&carol_id), NOW)
        .unwrap_err();
    assert_eq!(err.code, DsErrorCode::Unauthorized, "{err}");
}

#[test]
fn verify_vouched_client_accepts_a_real_client_and_refuses_in_order() {
    let w = World::new(ALICE);
    let laptop = Client::new(BOB_LAPTOP);
    let request = vouched_info_request(&w, &laptop);
    let keys = KnownKeys::of_known_domains().0[&ds_b()].clone();
    let client = verify_vouched_client(&request, &keys, &own(), NOW, 300).unwrap();
    assert_eq!(client.as_str(), BOB_LAPTOP);
    let code = |r: Result<&ClientId, DsError>| r.unwrap_err().code;
    // At the client's home DS: WrongAuthType.
    assert_eq!(
        code(verify_vouched_client(&request, &keys, &ds_b(), NOW, 300)),
        DsErrorCode::WrongAuthType
    );
    // Stale before unvouched: the time is checked first.
    assert_eq!(
        code(verify_vouched_client(&request, &[], &own(), NOW + 301, 300)),
        DsErrorCode::StaleRequest
    );
    // No keys of the issuer: unvouched.
    assert_eq!(
        code(verify_vouched_client(&request, &[], &own(), NOW, 300)),
        DsErrorCode::UnvouchedClient
    );
    // Signed by someone else than the vouched key.
    let impostor = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    let forged = sign_vouched_request(
        request.body.clone(),
        laptop.voucher.clone().unwrap(),
        NOW,
        vec![3; 16],
        &impostor,
    )
    .unwrap();
    assert_eq!(
        code(verify_vouched_client(&forged, &keys, &own(), NOW, 300)),
        DsErrorCode::InvalidRequestSignature
    );
    // Another operation.
    let other = sign_vouched_request(
        DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
            group_id: w.group.group_id().clone(),
            epoch: 0,
        }),
        laptop.voucher.clone().unwrap(),
        NOW,
        vec![3; 16],
        &laptop.signer,
    )
    .unwrap();
    assert_eq!(
        code(verify_vouched_client(&other, &keys, &own(), NOW, 300)),
        DsErrorCode::WrongAuthType
    );
}

#[test]
fn voucher_issuers_names_the_foreign_domains_of_new_members() {
    let mut w = World::new(ALICE);
    let new = [
        Client::new(BOB),
        Client::new(CAROL),
        Client::new(BOB_LAPTOP),
        Client::new("dave@ds-a.example/phone"),
    ];
    let kps = new.iter().map(Client::key_package).collect();
    let (request, _) = add_request_for(&mut w, ALICE, kps, false);
    let issuers = voucher_issuers(&request, &own());
    assert_eq!(
        issuers,
        vec![ds_b(), Domain::new("ds-c.example").unwrap()],
        "distinct, in order, own domain left out"
    );
    // The key ids their vouchers name, once per (issuer, id).
    let ids = voucher_key_ids(&request, &own());
    let expected: Vec<_> = [&new[0], &new[1]]
        .iter()
        .map(|c| {
            let v = c.voucher.clone().unwrap();
            (v.issuer.clone(), v.key_id.as_slice().to_vec())
        })
        .collect();
    assert_eq!(ids, expected);
    w.clients[0].discard();
    // Only own-domain members: nothing to fetch.
    let (request, _) = add_request_for(
        &mut w,
        ALICE,
        vec![Client::new("erin@ds-a.example/phone").key_package()],
        true,
    );
    assert!(voucher_issuers(&request, &own()).is_empty());
    w.clients[0].discard();
    // Other operations and garbage: nothing, and no panic.
    let update = w.clients[0].commit_with(|cb| cb.force_self_update(true)).0;
    let update_client =
        w.clients[0].signed(DsRequestBody::UpdateClient(update_request(update.clone())));
    assert!(voucher_issuers(&update_client, &own()).is_empty());
    w.clients[0].discard();
    let info = anonymous(DsRequestBody::ExternalCommitInfo(
        ExternalCommitInfoRequest {
            group_id: w.group.group_id().clone(),
        },
    ));
    assert!(voucher_issuers(&info, &own()).is_empty());
    let mut garbage = update.clone();
    for cut in [0, 1, 4, 10, update.commit.as_slice().len() / 2] {
        garbage.commit = Bytes::new(update.commit.as_slice()[..cut].to_vec()).unwrap();
        let request = anonymous(DsRequestBody::ExternalJoin(update_request(garbage.clone())));
        assert!(voucher_issuers(&request, &own()).is_empty());
        assert!(voucher_key_ids(&request, &own()).is_empty());
    }
    garbage.commit = Bytes::new(vec![0xff; 64]).unwrap();
    let request = anonymous(DsRequestBody::AddUsers(add_request(garbage, vec![])));
    assert!(voucher_issuers(&request, &own()).is_empty());
}
