//! The whole life of a group of ds-a.test with members of both domains:
//! created on A, users of A and B added with key packages fetched from
//! their home DSs (B's carrying B's vouchers), messages both ways, an
//! update, a removal, a self-removal, an external join by a B client, the
//! deletion. Every member reads only its home DS and gets every entry of
//! its membership exactly once and in order; B's queues hold exactly that.

use ds_core::queue::sign_vouched_request;
use ds_core::wire::{
    Bytes, DsErrorCode, DsRequestBody, DsResponseBody, ExternalCommitInfoRequest, QueuePositions,
    SelfRemoveClientRequest,
};
use openmls::prelude::{BasicCredential, LeafNodeIndex};
use tls_codec::Serialize as _;

use crate::common::{self, update_request};
use crate::listen::Listener;
use crate::member::Got;
use crate::poll::Wait;
use crate::qs;
use crate::world::World;

const ALICE: &str = "alice@ds-a.test/laptop";
const CAROL: &str = "carol@ds-a.test/phone";
const BOB: &str = "bob@ds-b.test/phone";
const BOB_TABLET: &str = "bob@ds-b.test/tablet";
const DAVE: &str = "dave@ds-b.test/laptop";
const ERIN: &str = "erin@ds-b.test/phone";

/// The leaf of `id` in `by`'s view of the group.
pub fn leaf_of(w: &mut World, by: &str, id: &str) -> LeafNodeIndex {
    w.member(by)
        .client
        .group()
        .members()
        .find(|m| {
            BasicCredential::try_from(m.credential.clone())
                .unwrap()
                .identity()
                == id.as_bytes()
        })
        .unwrap_or_else(|| panic!("{id} is not in {by}'s group"))
        .index
}

/// `ids` agree on the epoch and its authenticator.
pub fn converged(w: &mut World, ids: &[&str]) {
    let first = w.member(ids[0]).client.group();
    let (epoch, auth) = (
        first.epoch().as_u64(),
        first.epoch_authenticator().as_slice().to_vec(),
    );
    for id in ids {
        let group = w.member(id).client.group();
        assert_eq!(group.epoch().as_u64(), epoch, "epoch of {id}");
        assert_eq!(
            group.epoch_authenticator().as_slice(),
            auth,
            "epoch authenticator of {id}"
        );
        assert_eq!(group.members().count(), ids.len(), "roster size of {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_domain_group_from_creation_to_deletion() {
    let mut w = World::start().await;
    w.enrol(&[ALICE, CAROL, BOB, BOB_TABLET, DAVE, ERIN]).await;
    // Bob's phone listens on B from the start.
    let mut bob_push =
        Listener::subscribe(&w.home(BOB), w.member(BOB), &QueuePositions::default()).await;

    // Creation on A; alice adds carol (A) and bob, dave, erin (B) in one
    // commit with key packages fetched from their home DSs.
    let gid = w.create_group(ALICE).await;
    let added = w.add(ALICE, &[CAROL, BOB, DAVE, ERIN]).await;
    assert_eq!(added, 1, "creating the group logs nothing");
    w.all_get(&[ALICE], &[Got::Own]).await;
    converged(&mut w, &[ALICE, CAROL, BOB, DAVE, ERIN]);

    // Messages both ways: B clients send straight to the owning DS.
    let everyone = [ALICE, CAROL, BOB, DAVE, ERIN];
    for (by, text) in [
        (ALICE, &b"hello from a"[..]),
        (BOB, b"hello from b"),
        (ERIN, b"erin too"),
        (CAROL, b"carol here"),
        (DAVE, b"and dave"),
    ] {
        let readers: Vec<&str> = everyone.iter().copied().filter(|r| *r != by).collect();
        w.say(by, text, &readers).await;
    }

    // Bob (B) updates his leaf, keeping his voucher in it.
    let params = w.member(BOB).leaf_parameters();
    let (update, _) = w
        .member(BOB)
        .client
        .commit_with(|cb| cb.force_self_update(true).leaf_node_parameters(params));
    let commit = update.commit.as_slice().to_vec();
    let request = w
        .member(BOB)
        .signed(DsRequestBody::UpdateClient(update_request(update)), &commit);
    w.accepted(BOB, &request, true).await;
    w.all_get(&[BOB], &[Got::Own]).await;
    w.all_get(&[ALICE, CAROL, DAVE, ERIN], &[Got::Commit]).await;
    converged(&mut w, &everyone);

    // Alice removes the user dave (B): he gets the commit and nothing after.
    let dave_leaf = leaf_of(&mut w, ALICE, DAVE);
    let (update, _) = w
        .member(ALICE)
        .client
        .commit_with(|cb| cb.propose_removals([dave_leaf]));
    let commit = update.commit.as_slice().to_vec();
    let request = w
        .member(ALICE)
        .signed(DsRequestBody::RemoveUsers(update_request(update)), &commit);
    let dave_removed = w.accepted(ALICE, &request, true).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.all_get(&[CAROL, BOB, DAVE, ERIN], &[Got::Commit]).await;
    assert!(!w.member(DAVE).in_group(), "dave saw his removal");
    converged(&mut w, &[ALICE, CAROL, BOB, ERIN]);
    w.say(CAROL, b"without dave", &[ALICE, BOB, ERIN]).await;

    // Erin (B) removes herself: her proposal goes to A and out to everyone;
    // carol's next commit includes it.
    let proposal = {
        let client = &mut w.member(ERIN).client;
        let (provider, signer) = (&client.provider, &client.signer);
        client
            .group
            .as_mut()
            .unwrap()
            .leave_group(provider, signer)
            .unwrap()
            .tls_serialize_detached()
            .unwrap()
    };
    let request = w.member(ERIN).signed(
        DsRequestBody::SelfRemoveClient(SelfRemoveClientRequest {
            proposal: Bytes::new(proposal.clone()).unwrap(),
        }),
        &proposal,
    );
    w.accepted(ERIN, &request, false).await;
    w.all_get(&[ERIN], &[Got::Own]).await;
    w.all_get(&[ALICE, CAROL, BOB], &[Got::Proposal]).await;
    let (update, _) = w
        .member(CAROL)
        .client
        .commit_with(|cb| cb.consume_proposal_store(true).force_self_update(true));
    let commit = update.commit.as_slice().to_vec();
    let request = w
        .member(CAROL)
        .signed(DsRequestBody::UpdateClient(update_request(update)), &commit);
    let erin_removed = w.accepted(CAROL, &request, true).await;
    w.all_get(&[CAROL], &[Got::Own]).await;
    w.all_get(&[ALICE, BOB, ERIN], &[Got::Commit]).await;
    assert!(
        !w.member(ERIN).in_group(),
        "erin saw the commit removing her"
    );
    converged(&mut w, &[ALICE, CAROL, BOB]);

    // Bob's tablet (B) joins by external commit: it reads the GroupInfo from
    // A with VouchedClient auth, its new leaf carries B's voucher.
    let body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
        group_id: gid.clone(),
    });
    let tablet = w.member(BOB_TABLET);
    let voucher = tablet.voucher.clone().unwrap();
    let request = sign_vouched_request(
        body,
        voucher,
        qs::now(),
        qs::fresh_nonce(),
        &tablet.client.signer,
    )
    .unwrap();
    let answer = w.owner().ds(&request).await;
    let DsResponseBody::ExternalCommitInfo(info) = answer else {
        panic!("ds_external_commit_info with VouchedClient auth answered {answer:?}")
    };
    let update = w.member(BOB_TABLET).external_join(&info);
    let request = common::anonymous(DsRequestBody::ExternalJoin(update_request(update)));
    let joined = w.accepted(BOB_TABLET, &request, false).await;
    w.member(BOB_TABLET).follow(&gid, joined);
    w.all_get(&[ALICE, CAROL, BOB], &[Got::Commit]).await;
    converged(&mut w, &[ALICE, CAROL, BOB, BOB_TABLET]);
    w.say(BOB_TABLET, b"tablet here", &[ALICE, CAROL, BOB])
        .await;
    w.say(ALICE, b"welcome, tablet", &[CAROL, BOB, BOB_TABLET])
        .await;

    // Alice deletes the group, removing everyone else.
    let leaves: Vec<LeafNodeIndex> = [CAROL, BOB, BOB_TABLET]
        .iter()
        .map(|id| leaf_of(&mut w, ALICE, id))
        .collect();
    let (update, _) = w
        .member(ALICE)
        .client
        .commit_with(|cb| cb.propose_removals(leaves));
    let commit = update.commit.as_slice().to_vec();
    let request = w
        .member(ALICE)
        .signed(DsRequestBody::DeleteGroup(update_request(update)), &commit);
    let deleted = w.accepted(ALICE, &request, true).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.all_get(&[CAROL, BOB, BOB_TABLET], &[Got::Commit]).await;
    for id in [CAROL, BOB, BOB_TABLET] {
        assert!(!w.member(id).in_group(), "{id} saw the deletion");
    }
    let request = w.member(ALICE).message(b"anyone?");
    match w.owner().ds(&request).await {
        DsResponseBody::Error(e) => assert_eq!(e.code, DsErrorCode::GroupNotFound, "{e}"),
        other => panic!("a message to a deleted group was answered {other:?}"),
    }

    // Alice, the creator, saw the whole log 1..=deleted. Every member
    // processed exactly the entries of its membership, once, in order.
    let log = w.member(ALICE).log.clone();
    let numbers: Vec<u64> = log.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(numbers, (1..=deleted).collect::<Vec<_>>(), "alice's log");
    let interval = |from: u64, to: u64| -> Vec<(u64, Vec<u8>)> {
        log.iter()
            .filter(|(seq, _)| *seq > from && *seq <= to)
            .cloned()
            .collect()
    };
    let memberships = [
        (CAROL, added, deleted),
        (BOB, added, deleted),
        (DAVE, added, dave_removed),
        (ERIN, added, erin_removed),
        (BOB_TABLET, joined, deleted),
    ];
    for (id, from, to) in memberships {
        let member = w.member(id);
        assert_eq!(
            member.log,
            interval(from, to),
            "{id} processed its interval"
        );
        assert_eq!(member.duplicates, 0, "{id} was served entries twice");
    }

    // B's queues, read again from scratch, hold exactly those entries, and
    // the inbox exactly the Welcome (none for the external joiner).
    for (id, from, to) in memberships
        .into_iter()
        .filter(|(id, ..)| id.contains("@ds-b.test"))
    {
        let home = w.home(id);
        let queue = w.member(id).queue(&home).await;
        assert_eq!(
            queue.group(gid.as_str()),
            interval(from, to),
            "{id}'s queue on B"
        );
        assert_eq!(
            queue.entries.len() as u64,
            to - from,
            "{id}: entries of other groups"
        );
        let welcomes = usize::from(id != BOB_TABLET);
        assert_eq!(queue.inbox.len(), welcomes, "{id}'s inbox on B");
    }

    // Bob's live push delivered the same, in order, without gaps.
    bob_push.until(gid.as_str(), deleted).await;
    let pushed: Vec<(u64, Vec<u8>)> = bob_push.received.group(gid.as_str()).to_vec();
    assert_eq!(pushed, interval(added, deleted), "bob's pushed entries");
    assert_eq!(bob_push.received.inbox.len(), 1, "the Welcome, pushed");

    // A delivered everything: its outbox drains.
    let wait = Wait::new("A's outbox to drain");
    while w.a.outbox_depth().await != 0 {
        wait.step().await;
    }
}
