//! Client to server, on one domain at a time: every operation of the
//! protocol, as a client uses it, on both deployments.

use ds_client_sdk::{Event, GroupId};
use ds_core::wire::{DsAuthData, DsRequest, DsRequestBody, DsResponseBody, ProtocolVersion};

use crate::ctx::Ctx;
use crate::events::{expect_event, expect_message, joined, messages, quiet};
use crate::raw::DS_PATH;
use crate::scenario::{Context as _, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "CS-KEYS",
            "signature_public_key: each DS publishes its current Ed25519 key first, with a key id",
            keys
        ),
        scenario!(
            "CS-GROUP-ID",
            "request_group_id: each DS hands out fresh group ids of its own domain",
            group_id
        ),
        scenario!(
            "CS-REGISTER",
            "a new client registers at its home DS, gets its voucher and publishes key packages",
            register
        ),
        scenario!(
            "CS-CREATE",
            "create_group: the creator is the only member of a group of its home domain",
            create
        ),
        scenario!(
            "CS-INVITE",
            "add_users + key_packages + welcome_info: an invited client joins and both can talk",
            invite
        ),
        scenario!(
            "CS-INVITE-USER",
            "user_key_packages: inviting a user adds every one of its devices",
            invite_user
        ),
        scenario!(
            "CS-ADD-DEVICE",
            "add_clients: a member adds its own second device, which then gets every message",
            add_device
        ),
        scenario!(
            "CS-SEND",
            "send_message: every other member gets each message once, in order; the sender none",
            send
        ),
        scenario!(
            "CS-UPDATE",
            "update_client: after a key update the members keep talking in the new epoch",
            update
        ),
        scenario!(
            "CS-REMOVE-USER",
            "remove_users: the removed user learns it and gets nothing sent afterwards",
            remove_user
        ),
        scenario!(
            "CS-REMOVE-DEVICE",
            "remove_clients: a member removes its other device, which learns it",
            remove_device
        ),
        scenario!(
            "CS-LEAVE",
            "self_remove_client: a member leaves; another member commits it; all learn it",
            leave
        ),
        scenario!(
            "CS-REJOIN",
            "external_join + external_commit_info: a client that lost its group state rejoins",
            rejoin
        ),
        scenario!(
            "CS-DELETE",
            "delete_group: the members are removed and the group is gone",
            delete
        ),
    ]
}

async fn keys(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    for domain in [ctx.a(), ctx.b()] {
        let keys = raw
            .signature_public_keys(&domain)
            .await
            .ctx(format!("signature_public_key of {domain}"))?;
        ensure!(!keys.is_empty(), "{domain} published no key");
        let current = &keys[0];
        ensure!(
            current.not_after == 0,
            "{domain}: the first key is not the current one (not_after {})",
            current.not_after
        );
        ensure!(
            current.public_key.as_slice().len() == 32 && !current.key_id.as_slice().is_empty(),
            "{domain}: the current key is not an Ed25519 key with a key id"
        );
    }
    Ok(())
}

async fn group_id(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    for domain in [ctx.a(), ctx.b()] {
        let mut ids = Vec::new();
        for _ in 0..2 {
            let request = DsRequest {
                version: ProtocolVersion::V1,
                body: DsRequestBody::RequestGroupId,
                auth: DsAuthData::Anonymous,
            };
            let body = request.encode().ctx("encoding")?;
            let answer = raw
                .post(&domain, DS_PATH, body)
                .await
                .ctx("request_group_id")?;
            let response = ds_core::wire::DsResponse::decode(&answer).ctx("decoding")?;
            match response.body {
                DsResponseBody::GroupId(id) => ids.push(id),
                other => return Err(crate::Failure(format!("{domain}: answered {other:?}"))),
            }
        }
        ensure!(ids[0] != ids[1], "{domain} handed out {} twice", ids[0]);
        ensure!(
            ids.iter().all(|id| id.domain() == domain.as_str()),
            "{domain} handed out ids of another domain: {ids:?}"
        );
    }
    Ok(())
}

async fn register(ctx: Ctx) -> Outcome {
    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "ann", "laptop").await?;
        // Reopening restores the registration instead of registering again.
        client.close().await;
        let again = ctx.client(&domain, "ann", "laptop").await?;
        ensure!(
            again.groups().await.ctx("groups")?.is_empty(),
            "a new client is in groups already"
        );
    }
    Ok(())
}

async fn create(ctx: Ctx) -> Outcome {
    for domain in [ctx.a(), ctx.b()] {
        let alice = ctx.client(&domain, "alice", "laptop").await?;
        let group = alice.create_group("lunch").await.ctx("create_group")?;
        ensure!(
            group.domain() == domain.as_str(),
            "the group {group} is not of the creator's domain {domain}"
        );
        let members = alice.members(&group).await.ctx("members")?;
        ensure!(members == vec![alice.id().clone()], "members {members:?}");
        let groups = alice.groups().await.ctx("groups")?;
        ensure!(groups.len() == 1, "groups {groups:?}");
    }
    Ok(())
}

/// Alice creates a group on `ctx.a()` and invites Bob of the same domain;
/// both clients and the group.
pub(super) async fn pair(
    ctx: &Ctx,
) -> Result<(ds_client_sdk::Client, ds_client_sdk::Client, GroupId), crate::Failure> {
    let a = ctx.a();
    let alice = ctx.client(&a, "alice", "laptop").await?;
    let bob = ctx.client(&a, "bob", "phone").await?;
    let group = alice.create_group("pair").await.ctx("create_group")?;
    alice
        .invite(&group, &[bob.id().clone()])
        .await
        .ctx("invite")?;
    let joined_group = joined(&bob).await?;
    ensure!(
        joined_group == group,
        "bob joined {joined_group}, not {group}"
    );
    Ok((alice, bob, group))
}

async fn invite(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    let mut theirs = bob.members(&group).await.ctx("bob's members")?;
    let mut ours = alice.members(&group).await.ctx("alice's members")?;
    theirs.sort();
    ours.sort();
    ensure!(
        theirs == ours && ours.len() == 2,
        "alice sees {ours:?}, bob {theirs:?}"
    );
    alice.send(&group, b"hi bob").await.ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"hi bob").await?;
    bob.send(&group, b"hi alice").await.ctx("bob sends")?;
    expect_message(&alice, &group, bob.id(), b"hi alice").await
}

async fn invite_user(ctx: Ctx) -> Outcome {
    let a = ctx.a();
    let alice = ctx.client(&a, "alice", "laptop").await?;
    let phone = ctx.client(&a, "carol", "phone").await?;
    let tablet = ctx.client(&a, "carol", "tablet").await?;
    let group = alice.create_group("family").await.ctx("create_group")?;
    let carol = ctx.user(&a, "carol");
    alice
        .invite_users(&group, &[carol])
        .await
        .ctx("invite_users")?;
    for device in [&phone, &tablet] {
        let got = joined(device).await?;
        ensure!(got == group, "{} joined {got}", device.id());
    }
    ensure!(
        alice.members(&group).await.ctx("members")?.len() == 3,
        "not every device of carol was added"
    );
    alice.send(&group, b"dinner?").await.ctx("send")?;
    for device in [&phone, &tablet] {
        expect_message(device, &group, alice.id(), b"dinner?").await?;
    }
    Ok(())
}

async fn add_device(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    let tablet = ctx.client(&ctx.a(), "bob", "tablet").await?;
    bob.add_device(&group, tablet.id())
        .await
        .ctx("add_clients")?;
    let got = joined(&tablet).await?;
    ensure!(got == group, "the tablet joined {got}");
    alice.send(&group, b"to both of bob's").await.ctx("send")?;
    expect_message(&bob, &group, alice.id(), b"to both of bob's").await?;
    expect_message(&tablet, &group, alice.id(), b"to both of bob's").await?;
    tablet
        .send(&group, b"from the tablet")
        .await
        .ctx("tablet sends")?;
    expect_message(&bob, &group, tablet.id(), b"from the tablet").await?;
    expect_message(&alice, &group, tablet.id(), b"from the tablet").await
}

async fn send(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    let carol = ctx.client(&ctx.a(), "carol", "phone").await?;
    alice
        .invite(&group, &[carol.id().clone()])
        .await
        .ctx("invite carol")?;
    joined(&carol).await?;
    const COUNT: usize = 12;
    for i in 0..COUNT {
        alice
            .send(&group, format!("m{i}").as_bytes())
            .await
            .ctx("send")?;
    }
    for reader in [&bob, &carol] {
        let got = messages(reader, &group, COUNT).await?;
        for (i, (sender, body)) in got.iter().enumerate() {
            ensure!(
                sender == alice.id() && body == format!("m{i}").as_bytes(),
                "{}: message {i} is {:?} from {sender}",
                reader.id(),
                String::from_utf8_lossy(body)
            );
        }
        quiet(reader).await?;
    }
    quiet(&alice).await
}

async fn update(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    alice.update(&group).await.ctx("alice updates")?;
    bob.update(&group).await.ctx("bob updates")?;
    alice.send(&group, b"after the updates").await.ctx("send")?;
    expect_message(&bob, &group, alice.id(), b"after the updates").await?;
    bob.send(&group, b"still here").await.ctx("bob sends")?;
    expect_message(&alice, &group, bob.id(), b"still here").await
}

async fn remove_user(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    let bob_user = ctx.user(&ctx.a(), "bob");
    alice.remove(&group, &bob_user).await.ctx("remove_users")?;
    expect_event(
        &bob,
        "Removed",
        |e| matches!(e, Event::Removed { group: g } if *g == group),
    )
    .await?;
    alice.send(&group, b"after bob left").await.ctx("send")?;
    quiet(&bob).await?;
    ensure!(
        alice.members(&group).await.ctx("members")? == vec![alice.id().clone()],
        "bob is still a member"
    );
    Ok(())
}

async fn remove_device(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    let tablet = ctx.client(&ctx.a(), "bob", "tablet").await?;
    bob.add_device(&group, tablet.id())
        .await
        .ctx("add_clients")?;
    joined(&tablet).await?;
    bob.remove_device(&group, tablet.id())
        .await
        .ctx("remove_clients")?;
    expect_event(&tablet, "Removed", |e| matches!(e, Event::Removed { .. })).await?;
    alice.send(&group, b"bob's phone only").await.ctx("send")?;
    expect_message(&bob, &group, alice.id(), b"bob's phone only").await?;
    quiet(&tablet).await
}

async fn leave(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    bob.leave(&group).await.ctx("self_remove_client")?;
    expect_event(&bob, "Removed", |e| matches!(e, Event::Removed { .. })).await?;
    expect_event(
        &alice,
        "MembersRemoved of bob",
        |e| matches!(e, Event::MembersRemoved { members, .. } if members.contains(bob.id())),
    )
    .await?;
    ensure!(
        alice.members(&group).await.ctx("members")? == vec![alice.id().clone()],
        "bob is still a member after leaving"
    );
    Ok(())
}

async fn rejoin(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    // Bob's state of the group is lost: a copy from before an update.
    let bob_user = ctx.user(&ctx.a(), "bob");
    let dir = ctx.state_dir(&bob_user, "phone");
    let backup = dir.with_extension("backup");
    bob.close().await;
    copy_dir(&dir, &backup)?;
    let bob = ctx.client(&ctx.a(), "bob", "phone").await?;
    alice.update(&group).await.ctx("alice updates")?;
    bob.close().await;
    std::fs::remove_dir_all(&dir).ctx("dropping bob's state")?;
    copy_dir(&backup, &dir)?;
    let bob = ctx.client(&ctx.a(), "bob", "phone").await?;
    bob.rejoin(&group).await.ctx("rejoin")?;
    ensure!(
        alice.members(&group).await.ctx("members")?.len() == 2 || {
            alice.sync().await.ctx("sync")?;
            alice.members(&group).await.ctx("members")?.len() == 2
        },
        "the rejoin changed the membership"
    );
    alice.send(&group, b"welcome back").await.ctx("send")?;
    // Bob may first see what was logged before his rejoin only as skipped
    // entries; the message must come.
    let deadline = std::time::Instant::now() + crate::events::EVENT_WAIT;
    loop {
        ensure!(
            std::time::Instant::now() < deadline,
            "bob never got the message"
        );
        match crate::events::next(&bob).await? {
            Event::Message { body, .. } if body == b"welcome back" => break,
            Event::Message { .. } | Event::MembersAdded { .. } | Event::MembersRemoved { .. } => {}
            other => return Err(crate::Failure(format!("bob got {other:?}"))),
        }
    }
    bob.send(&group, b"thanks").await.ctx("bob sends")?;
    expect_message(&alice, &group, bob.id(), b"thanks").await
}

async fn delete(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = pair(&ctx).await?;
    alice.delete_group(&group).await.ctx("delete_group")?;
    expect_event(&bob, "Removed", |e| matches!(e, Event::Removed { .. })).await?;
    let err = bob.send(&group, b"anyone?").await;
    ensure!(err.is_err(), "bob could still send to the deleted group");
    ensure!(
        alice
            .groups()
            .await
            .ctx("groups")?
            .iter()
            .all(|g| g.id != group),
        "the deleted group is still listed"
    );
    Ok(())
}

/// Copies a client's state directory (files only, one level).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> Outcome {
    std::fs::create_dir_all(to).ctx(format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).ctx(format!("reading {}", from.display()))? {
        let entry = entry.ctx("a directory entry")?;
        if entry.file_type().ctx("a file type")?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .ctx(format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
