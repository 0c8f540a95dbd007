//! A long conversation through the engine with real openmls members: at every
//! epoch the engine's epoch, tree hash and roster equal every member's, and
//! the state survives a save/restore round trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ds_core::group::{DsGroup, Effect, Outcome};
use ds_core::wire::*;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::Serialize as _;

const ALICE_LAPTOP: &str = "alice@ds-a.example/laptop";
const ALICE_PHONE: &str = "alice@ds-a.example/phone";
const BOB_PHONE: &str = "bob@ds-b.example/phone";
const BOB_LAPTOP: &str = "bob@ds-b.example/laptop";
const CAROL: &str = "carol@ds-a.example/pc";
const DAVE: &str = "dave@ds-b.example/tablet";

/// Saves and restores the DS state, continuing with the restored copy.
fn round_trip(w: &mut World) {
    let saved = w.group.to_bytes().unwrap();
    w.group = DsGroup::from_bytes(&saved).unwrap();
    assert_eq!(w.group.to_bytes().unwrap(), saved);
}

/// Commits `f` as `op` by `by`, fans it out, checks convergence.
fn commit(
    w: &mut World,
    by: &str,
    op: fn(GroupUpdateRequest) -> DsRequestBody,
    f: impl for<'a> FnOnce(
        openmls::group::CommitBuilder<'a, openmls::group::Initial>,
    ) -> openmls::group::CommitBuilder<'a, openmls::group::Initial>,
) -> Outcome {
    let i = w.idx(by);
    let (update, _) = w.clients[i].commit_with(f);
    let request = w.clients[i].signed(op(update_request(update)));
    let outcome = w.process(&request).unwrap();
    w.clients[i].merge();
    w.fan_out(&outcome, i);
    w.assert_converged();
    round_trip(w);
    outcome
}

fn roster_change(outcome: &Outcome) -> (Vec<String>, Vec<String>) {
    outcome
        .effects
        .iter()
        .find_map(|e| match e {
            Effect::RosterChange { added, removed } => Some((
                added.iter().map(|c| c.to_string()).collect(),
                removed.iter().map(|c| c.to_string()).collect(),
            )),
            _ => None,
        })
        .unwrap()
}

fn external_info(w: &mut World, requester: &str) -> ExternalCommitInfo {
    let request = registered(
        DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: w.group.group_id().clone(),
        }),
        requester,
    );
    let requester = ClientId::new(requester).unwrap();
    match w
        .group
        .process(&w.ds.ctx, &request, Some(&requester), NOW)
        .unwrap()
        .response
    {
        DsResponseBody::ExternalCommitInfo(info) => info,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn long_conversation_converges_at_every_epoch() {
    let mut w = World::new(ALICE_LAPTOP);

    // Epoch 1: two users join by Welcome.
    let outcome = w.add(ALICE_LAPTOP, &[BOB_PHONE, CAROL], false);
    assert_eq!(roster_change(&outcome).0, vec![BOB_PHONE, CAROL]);
    w.assert_converged();
    round_trip(&mut w);

    // Epoch 2: alice adds her second device.
    w.add(ALICE_LAPTOP, &[ALICE_PHONE], true);
    w.assert_converged();
    assert_eq!(w.group.epoch(), 2);

    // An application message reaches every other member intact.
    let b = w.idx(BOB_PHONE);
    let text = w.clients[b].message(b"hi all");
    let request = w.clients[b].signed(DsRequestBody::SendMessage(SendMessageRequest {
        application_message: Bytes::new(text.clone()).unwrap(),
    }));
    let outcome = w.process(&request).unwrap();
    for (i, c) in w.clients.iter_mut().enumerate() {
        if i != b {
            assert_eq!(c.receive(&text), Received::Application(b"hi all".to_vec()));
        }
    }
    assert_eq!(group_messages(&outcome), vec![text]);

    // Epoch 3: carol updates her leaf.
    commit(&mut w, CAROL, DsRequestBody::UpdateClient, |cb| {
        cb.force_self_update(true)
    });

    // Carol proposes her own removal; the DS keeps it by reference.
    let c = w.idx(CAROL);
    let proposal = {
        let client = &mut w.clients[c];
        let provider = &client.provider;
        let signer = &client.signer;
        client
            .group
            .as_mut()
            .unwrap()
            .leave_group(provider, signer)
            .unwrap()
            .tls_serialize_detached()
            .unwrap()
    };
    let request = w.clients[c].signed(DsRequestBody::SelfRemoveClient(SelfRemoveClientRequest {
        proposal: Bytes::new(proposal).unwrap(),
    }));
    let outcome = w.process(&request).unwrap();
    w.fan_out(&outcome, c);
    round_trip(&mut w); // the stored proposal survives a restore
    // Epoch 4: bob commits it by reference with an update.
    let outcome = commit(&mut w, BOB_PHONE, DsRequestBody::UpdateClient, |cb| {
        cb.force_self_update(true)
    });
    assert_eq!(roster_change(&outcome).1, vec![CAROL]);
    assert!(
        w.clients[w.idx(CAROL)].group.is_none(),
        "carol saw her removal"
    );

    // Epoch 5: bob adds dave of ds-b.
    w.add(BOB_PHONE, &[DAVE], false);
    w.assert_converged();

    // The DS removes dave (e.g. inactivity): a DS-signed proposal, committed by reference.
    let dave = ClientId::new(DAVE).unwrap();
    let outcome = {
        let ds = &w.ds;
        w.group.ds_remove(&ds.ctx, &dave, &ds.signer).unwrap()
    };
    assert!(matches!(
        &outcome.effects[0],
        Effect::GroupMessage { sender: None, .. }
    ));
    w.fan_out(&outcome, usize::MAX);
    assert!(
        w.group.ds_removals_due().is_empty(),
        "already proposed this epoch"
    );
    // Epoch 6.
    let outcome = commit(&mut w, ALICE_LAPTOP, DsRequestBody::UpdateClient, |cb| {
        cb.force_self_update(true)
    });
    assert_eq!(roster_change(&outcome).1, vec![DAVE]);
    assert!(w.group.ds_removals_due().is_empty());

    // Epoch 7: bob's new laptop joins by external commit.
    let info = external_info(&mut w, BOB_LAPTOP);
    let mut bob_laptop = Client::new(BOB_LAPTOP);
    let update = bob_laptop.external_join(&info);
    let outcome = w
        .process(&anonymous(DsRequestBody::ExternalJoin(update_request(
            update,
        ))))
        .unwrap();
    w.fan_out(&outcome, usize::MAX);
    w.clients.push(bob_laptop);
    assert_eq!(roster_change(&outcome).0, vec![BOB_LAPTOP]);
    w.assert_converged();
    round_trip(&mut w);

    // Epoch 8: alice's phone lost its state and resyncs with the same key.
    let p = w.idx(ALICE_PHONE);
    let old = w.clients.remove(p);
    // The device kept its signature key (a copy through its serialized form).
    let signer: SignatureKeyPair =
        serde_json::from_slice(&serde_json::to_vec(&old.signer).unwrap()).unwrap();
    let mut phone = Client::with_signer(ALICE_PHONE, signer);
    let info = external_info(&mut w, ALICE_PHONE);
    let update = phone.external_join(&info);
    let outcome = w
        .process(&anonymous(DsRequestBody::ExternalJoin(update_request(
            update,
        ))))
        .unwrap();
    w.fan_out(&outcome, usize::MAX);
    w.clients.push(phone);
    let (added, removed) = roster_change(&outcome);
    assert!(
        added.is_empty() && removed.is_empty(),
        "same client, new leaf"
    );
    w.assert_converged();

    // Epoch 9: alice removes user bob (both devices).
    let a = w.idx(ALICE_LAPTOP);
    let leaves: Vec<LeafNodeIndex> = [BOB_PHONE, BOB_LAPTOP]
        .iter()
        .map(|id| {
            w.group
                .roster()
                .leaf_of(&ClientId::new(id).unwrap())
                .unwrap()
        })
        .collect();
    let outcome = commit(&mut w, ALICE_LAPTOP, DsRequestBody::RemoveUsers, |cb| {
        cb.propose_removals(leaves)
    });
    let mut removed = roster_change(&outcome).1;
    removed.sort();
    assert_eq!(removed, vec![BOB_LAPTOP, BOB_PHONE]);
    assert_eq!(w.group.roster().len(), 2);

    // Epoch 10: alice deletes the group, removing her phone.
    let phone_leaf = w
        .group
        .roster()
        .leaf_of(&ClientId::new(ALICE_PHONE).unwrap())
        .unwrap();
    let outcome = commit(&mut w, ALICE_LAPTOP, DsRequestBody::DeleteGroup, |cb| {
        cb.propose_removals([phone_leaf])
    });
    assert_eq!(outcome.effects.last(), Some(&Effect::GroupDeleted));
    assert_eq!(w.group.epoch(), 10);
    let _ = a;
}

#[test]
fn welcome_info_is_kept_until_joined_or_expired() {
    let mut w = World::new(ALICE_LAPTOP);
    // Add bob without letting him join, so his welcome info stays pending.
    let bob = Client::new(BOB_PHONE);
    let kp = bob.key_package();
    let a = w.idx(ALICE_LAPTOP);
    let (update, welcome) = w.clients[a].commit_with(|cb| cb.propose_adds([kp]));
    let request = w.clients[a].signed(DsRequestBody::AddUsers(add_request(
        update,
        vec![welcome.unwrap()],
    )));
    w.process(&request).unwrap();
    assert_eq!(w.group.retained_tree_epochs(), vec![1]);

    let retention = w.ds.ctx.welcome_retention_secs;
    assert!(!w.group.expire_welcome_info(&w.ds.ctx, NOW + retention));
    assert_eq!(w.group.retained_tree_epochs(), vec![1]);
    assert!(w.group.expire_welcome_info(&w.ds.ctx, NOW + retention + 1));
    assert!(w.group.retained_tree_epochs().is_empty());
    assert!(w.group.pending_join_leaf(&bob.id).is_none());
}
