//! Federation through the public protocol: groups of one domain with
//! members of the other. Clients of B read their queue at B and send group
//! operations to the owning DS A directly; A checks B's clients by B's
//! vouchers and fans out to B. Every operation a member of the owning
//! domain can make, a guest member can make too, and the symmetric case (a
//! group owned by B) works alike.

use ds_client_sdk::{Client, ClientId, Domain, Event, GroupId};
use ds_core::wire::{
    DsAuthData, DsRequest, DsRequestBody, DsResponse, DsResponseBody, DsSigningKey,
    KeyPackagesRequest, List, ProtocolVersion, SIGNATURE_SCHEME_ED25519,
};
use ds_federation::PeerClient;

use super::cs::copy_dir;
use super::order::{Member, check_streams, group_of, members_are, pair_with, quiet_all, round};
use crate::ctx::Ctx;
use crate::events::{EVENT_WAIT, expect_event, expect_message, joined, messages, next};
use crate::forge::{now, voucher_of};
use crate::raw::DS_PATH;
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "FED-INVITE",
            "user_key_packages at B + add_users at A: a client of B joins A's group from B and both talk",
            invite
        ),
        scenario!(
            "FED-FANOUT",
            "send_message in A's group with members on A and B: each message reaches every other member once",
            fanout
        ),
        scenario!(
            "FED-GUEST-COMMITS",
            "update, add_clients, remove_users by a member of B in A's group: A accepts each, all converge",
            guest_commits
        ),
        scenario!(
            "FED-REMOTE-OWNER",
            "a group owned by B with members of A: invite, talk, guest update and remove work alike",
            remote_owner
        ),
        scenario!(
            "FED-REMOVE",
            "remove_users of a B user from A's group: its client learns it and gets nothing afterwards",
            remove
        ),
        scenario!(
            "FED-LEAVE",
            "self_remove_client by a member of B in A's group: a member of A commits it; all learn it",
            leave
        ),
        scenario!(
            "FED-REJOIN",
            "external_join at A by a client of B that lost its group state (vouched by B): it talks again",
            rejoin
        ),
        scenario!(
            "FED-DS-KEYS",
            "signature_public_key: A and B publish distinct current keys, and each vouches with its own",
            ds_keys
        ),
    ]
}

/// Alice of A, in a group of A with Bob of B, who joined.
async fn across(ctx: &Ctx) -> Result<(Client, Client, GroupId), Failure> {
    let (alice, bob, group) = pair_with(ctx, &ctx.b()).await?;
    ensure!(
        group.domain() == ctx.a().as_str(),
        "alice's group {group} is not of her domain {}",
        ctx.a()
    );
    Ok((alice, bob, group))
}

/// The next events of `client` must be membership changes of others, then
/// its own removal from `group`.
async fn removed(client: &Client, group: &GroupId) -> Outcome {
    loop {
        match next(client).await? {
            Event::Removed { group: g } if &g == group => return Ok(()),
            Event::MembersAdded { .. } | Event::MembersRemoved { .. } => {}
            other => {
                return Err(Failure(format!(
                    "{}: expected Removed from {group}, got {other:?}",
                    client.id()
                )));
            }
        }
    }
}

/// The next event of `client` must be the removal of `gone` by another
/// member's commit (or its own commit of `gone`'s leave).
async fn learns_removal(client: &Client, gone: &ClientId) -> Outcome {
    expect_event(
        client,
        &format!("MembersRemoved of {gone}"),
        |e| matches!(e, Event::MembersRemoved { members, .. } if members == &vec![gone.clone()]),
    )
    .await
    .map(|_| ())
}

async fn invite(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = across(&ctx).await?;
    members_are(&[&alice, &bob], &group, &[alice.id(), bob.id()]).await?;
    alice
        .send(&group, b"hi bob of B")
        .await
        .ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"hi bob of B").await?;
    bob.send(&group, b"hi alice of A").await.ctx("bob sends")?;
    expect_message(&alice, &group, bob.id(), b"hi alice of A").await?;
    quiet_all(&[&alice, &bob]).await
}

/// Messages each member sends in FED-FANOUT.
const FANOUT_EACH: usize = 3;

async fn fanout(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.a(), ctx.b());
    let members: [Member<'_>; 4] = [
        (&a, "alice", "laptop"),
        (&a, "carol", "phone"),
        (&b, "bob", "phone"),
        (&b, "bob", "tablet"),
    ];
    let (clients, group) = group_of(&ctx, "fanout", &members, |_| {}).await?;
    let ids: Vec<&ClientId> = clients.iter().map(|c| c.id()).collect();
    // One member after the other, so each message is in flight alone.
    for sender in &clients {
        for i in 0..FANOUT_EACH {
            sender
                .send(&group, format!("m{i}").as_bytes())
                .await
                .ctx(format!("{} sends m{i}", sender.id()))?;
        }
    }
    for reader in &clients {
        let got = messages(reader, &group, (ids.len() - 1) * FANOUT_EACH).await?;
        check_streams(reader.id(), &got, &ids, FANOUT_EACH)?;
    }
    let refs: Vec<&Client> = clients.iter().map(|c| c.as_ref()).collect();
    quiet_all(&refs).await
}

async fn guest_commits(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.a(), ctx.b());
    let members: [Member<'_>; 3] = [
        (&a, "alice", "laptop"),
        (&a, "carol", "phone"),
        (&b, "bob", "phone"),
    ];
    let (clients, group) = group_of(&ctx, "guests", &members, |_| {}).await?;
    let [alice, carol, bob] = &clients[..] else {
        return Err(Failure(format!("{} clients, expected 3", clients.len())));
    };
    bob.update(&group).await.ctx("bob of B updates at A")?;
    // Registered only now, so that inviting bob did not add it already.
    let tablet = ctx.client(&b, "bob", "tablet").await?;
    bob.add_device(&group, tablet.id())
        .await
        .ctx("bob of B adds his tablet at A")?;
    let got = joined(&tablet).await?;
    ensure!(got == group, "bob's tablet joined {got}, not {group}");
    bob.remove(&group, &ctx.user(&a, "carol"))
        .await
        .ctx("bob of B removes carol of A at A")?;
    removed(carol, &group).await?;
    expect_event(
        alice,
        "MembersAdded of bob's tablet",
        |e| matches!(e, Event::MembersAdded { members, .. } if members == &vec![tablet.id().clone()]),
    )
    .await?;
    learns_removal(alice, carol.id()).await?;
    learns_removal(&tablet, carol.id()).await?;
    let stay = [alice.as_ref(), bob.as_ref(), &tablet];
    round(&stay, &group, "after bob's commits").await?;
    members_are(&stay, &group, &[alice.id(), bob.id(), tablet.id()]).await?;
    quiet_all(&[carol.as_ref(), alice.as_ref(), bob.as_ref(), &tablet]).await
}

async fn remote_owner(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.a(), ctx.b());
    let members: [Member<'_>; 3] = [
        (&b, "bob", "phone"),
        (&a, "alice", "laptop"),
        (&a, "carol", "phone"),
    ];
    let (clients, group) = group_of(&ctx, "owned by B", &members, |_| {}).await?;
    let [bob, alice, carol] = &clients[..] else {
        return Err(Failure(format!("{} clients, expected 3", clients.len())));
    };
    ensure!(
        group.domain() == b.as_str(),
        "bob's group {group} is not of his domain {b}"
    );
    let all = [bob.as_ref(), alice.as_ref(), carol.as_ref()];
    round(&all, &group, "in B's group").await?;
    alice.update(&group).await.ctx("alice of A updates at B")?;
    round(&all, &group, "after alice's update").await?;
    bob.remove(&group, &ctx.user(&a, "carol"))
        .await
        .ctx("bob removes carol of A")?;
    removed(carol, &group).await?;
    learns_removal(alice, carol.id()).await?;
    let stay = [bob.as_ref(), alice.as_ref()];
    round(&stay, &group, "after carol left").await?;
    members_are(&stay, &group, &[bob.id(), alice.id()]).await?;
    quiet_all(&all).await
}

/// Alice and Carol of A and Bob of B in a group of A.
async fn trio(ctx: &Ctx) -> Result<(Vec<std::sync::Arc<Client>>, GroupId), Failure> {
    let (a, b) = (ctx.a(), ctx.b());
    let members: [Member<'_>; 3] = [
        (&a, "alice", "laptop"),
        (&a, "carol", "phone"),
        (&b, "bob", "phone"),
    ];
    group_of(ctx, "trio", &members, |_| {}).await
}

async fn remove(ctx: Ctx) -> Outcome {
    let (clients, group) = trio(&ctx).await?;
    let [alice, carol, bob] = &clients[..] else {
        return Err(Failure(format!("{} clients, expected 3", clients.len())));
    };
    alice
        .remove(&group, &ctx.user(&ctx.b(), "bob"))
        .await
        .ctx("alice removes bob of B")?;
    removed(bob, &group).await?;
    learns_removal(carol, bob.id()).await?;
    let stay = [alice.as_ref(), carol.as_ref()];
    round(&stay, &group, "after bob").await?;
    members_are(&stay, &group, &[alice.id(), carol.id()]).await?;
    // Nothing of what was sent after the removal reached bob at B.
    quiet_all(&[bob.as_ref(), alice.as_ref(), carol.as_ref()]).await?;
    ensure!(
        bob.groups()
            .await
            .ctx("bob's groups")?
            .iter()
            .all(|g| g.id != group),
        "bob still lists {group} after his removal"
    );
    Ok(())
}

async fn leave(ctx: Ctx) -> Outcome {
    let (clients, group) = trio(&ctx).await?;
    let [alice, carol, bob] = &clients[..] else {
        return Err(Failure(format!("{} clients, expected 3", clients.len())));
    };
    bob.leave(&group).await.ctx("bob of B leaves")?;
    // Only alice and carol of A can commit the leave.
    removed(bob, &group).await?;
    learns_removal(alice, bob.id()).await?;
    learns_removal(carol, bob.id()).await?;
    let stay = [alice.as_ref(), carol.as_ref()];
    round(&stay, &group, "after bob left").await?;
    members_are(&stay, &group, &[alice.id(), carol.id()]).await?;
    quiet_all(&[bob.as_ref(), alice.as_ref(), carol.as_ref()]).await
}

async fn rejoin(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = across(&ctx).await?;
    let b = ctx.b();
    // Bob's state of the group is lost: a copy from before an update.
    let dir = ctx.state_dir(&ctx.user(&b, "bob"), "phone");
    let backup = dir.with_extension("backup");
    bob.close().await;
    copy_dir(&dir, &backup)?;
    let bob = ctx.client(&b, "bob", "phone").await?;
    alice.update(&group).await.ctx("alice updates")?;
    bob.close().await;
    std::fs::remove_dir_all(&dir).ctx("dropping bob's state")?;
    copy_dir(&backup, &dir)?;
    let bob = ctx.client(&b, "bob", "phone").await?;
    bob.rejoin(&group)
        .await
        .ctx("bob of B rejoins at A (vouched_client)")?;
    alice
        .send(&group, b"welcome back")
        .await
        .ctx("alice sends")?;
    // Bob may first see what was logged before his rejoin only as skipped
    // entries; the message must come.
    let deadline = std::time::Instant::now() + EVENT_WAIT;
    loop {
        ensure!(
            std::time::Instant::now() < deadline,
            "bob never got alice's message after rejoining"
        );
        match next(&bob).await? {
            Event::Message { body, .. } if body == b"welcome back" => break,
            Event::Message { .. } | Event::MembersAdded { .. } | Event::MembersRemoved { .. } => {}
            other => return Err(Failure(format!("bob got {other:?}"))),
        }
    }
    bob.send(&group, b"thanks").await.ctx("bob sends")?;
    // The resync replaced bob's old leaf: no membership change for alice.
    expect_message(&alice, &group, bob.id(), b"thanks").await?;
    members_are(&[&alice, &bob], &group, &[alice.id(), bob.id()]).await
}

async fn ds_keys(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (a, b) = (ctx.a(), ctx.b());
    let key_a = current_key(&raw, &a).await?;
    let key_b = current_key(&raw, &b).await?;
    ensure!(
        key_a.public_key != key_b.public_key && key_a.key_id != key_b.key_id,
        "A and B publish the same current key {}",
        hex::encode(key_a.public_key.as_slice())
    );
    let alice = ctx.client(&a, "alice", "laptop").await?;
    let bob = ctx.client(&b, "bob", "phone").await?;
    vouched_with(&raw, &alice, &a, &key_a).await?;
    vouched_with(&raw, &bob, &b, &key_b).await?;
    // Each owning DS admits the other domain's client on those vouchers.
    let at_a = alice.create_group("at A").await.ctx("create_group at A")?;
    alice
        .invite_users(&at_a, &[ctx.user(&b, "bob")])
        .await
        .ctx("A admitting bob of B")?;
    let got = joined(&bob).await?;
    ensure!(got == at_a, "bob joined {got}, not {at_a}");
    let at_b = bob.create_group("at B").await.ctx("create_group at B")?;
    bob.invite_users(&at_b, &[ctx.user(&a, "alice")])
        .await
        .ctx("B admitting alice of A")?;
    let got = joined(&alice).await?;
    ensure!(got == at_b, "alice joined {got}, not {at_b}");
    Ok(())
}

/// `domain`'s current signing key: first, `not_after` 0, Ed25519, with
/// the key id SHA-256(key)[..8].
async fn current_key(raw: &PeerClient, domain: &Domain) -> Result<DsSigningKey, Failure> {
    let keys = raw
        .signature_public_keys(domain)
        .await
        .ctx(format!("signature_public_key of {domain}"))?;
    let Some(current) = keys.first() else {
        return Err(Failure(format!("{domain} publishes no key")));
    };
    ensure!(
        current.not_after == 0,
        "{domain}: the first key has not_after {}, expected 0 (current)",
        current.not_after
    );
    ensure!(
        current.signature_scheme == SIGNATURE_SCHEME_ED25519
            && current.public_key.as_slice().len() == 32,
        "{domain}: the current key is scheme {:#06x} of {} bytes, expected Ed25519",
        current.signature_scheme,
        current.public_key.as_slice().len()
    );
    let id = ds_federation::keyring::key_id_of(current.public_key.as_slice());
    ensure!(
        current.key_id.as_slice() == id,
        "{domain}: key id {}, expected SHA-256(key)[..8] = {}",
        hex::encode(current.key_id.as_slice()),
        hex::encode(id)
    );
    Ok(current.clone())
}

/// A key package of `client`, fetched from its home DS `home` as inviting
/// does, carries a voucher of `home` by its current `key`.
async fn vouched_with(
    raw: &PeerClient,
    client: &Client,
    home: &Domain,
    key: &DsSigningKey,
) -> Outcome {
    let request = DsRequest {
        version: ProtocolVersion::V1,
        body: DsRequestBody::KeyPackages(KeyPackagesRequest {
            client_ids: List::new(vec![client.id().clone()]).ctx("client ids")?,
        }),
        auth: DsAuthData::Anonymous,
    };
    let answer = raw
        .post(home, DS_PATH, request.encode().ctx("encoding")?)
        .await
        .ctx(format!("key_packages of {} at {home}", client.id()))?;
    let served = match DsResponse::decode(&answer).ctx("decoding")?.body {
        DsResponseBody::KeyPackages(served) => served.key_packages.into_vec(),
        other => {
            return Err(Failure(format!(
                "{home} answered key_packages with {other:?}"
            )));
        }
    };
    let [served] = &served[..] else {
        return Err(Failure(format!(
            "{home} served {} key packages for one client",
            served.len()
        )));
    };
    let key_package =
        crate::forge::served_key_package(served).map_err(|e| Failure(format!("{home}: {e}")))?;
    let Some(voucher) = voucher_of(&key_package) else {
        return Err(Failure(format!(
            "the key package of {} served by {home} carries no voucher",
            client.id()
        )));
    };
    ensure!(
        &voucher.issuer == home && &voucher.client_id == client.id(),
        "the voucher of {} is issued by {} for {}",
        client.id(),
        voucher.issuer,
        voucher.client_id
    );
    ensure!(
        voucher.key_id.as_slice() == key.key_id.as_slice(),
        "{home} vouched for {} with key {}, not its current {}",
        client.id(),
        hex::encode(voucher.key_id.as_slice()),
        hex::encode(key.key_id.as_slice())
    );
    ensure!(
        voucher.signature_key.as_slice() == key_package.leaf_node().signature_key().as_slice(),
        "the voucher of {} is for another key than its leaf's",
        client.id()
    );
    ensure!(
        voucher.not_after >= now(),
        "the voucher of {} expired at {}",
        client.id(),
        voucher.not_after
    );
    let public: [u8; 32] = key
        .public_key
        .as_slice()
        .try_into()
        .ctx("an Ed25519 public key")?;
    let verifying =
        ed25519_dalek::VerifyingKey::from_bytes(&public).ctx(format!("the key of {home}"))?;
    let signature =
        ed25519_dalek::Signature::from_slice(voucher.signature.as_slice()).ctx("the signature")?;
    let signed = voucher.signed_content().ctx("ClientVoucherTBS")?;
    verifying.verify_strict(&signed, &signature).ctx(format!(
        "the voucher of {} under {home}'s published key",
        client.id()
    ))
}
