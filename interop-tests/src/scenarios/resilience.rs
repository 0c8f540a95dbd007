//! Disruptions of the guest domain B: cut off the network, and restarted,
//! while A keeps accepting messages for a group with members on B. What A
//! acknowledged must reach B's clients afterwards, in order, once.

use ds_client_sdk::{Client, GroupId};

use crate::ctx::Ctx;
use crate::events::{expect_message, joined, messages, quiet};
use crate::operator::Action;
use crate::scenario::{Context as _, Failure, Need, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "FED-PARTITION",
            "B cut off while A accepts messages for B's members: after the cut heals, all arrive in order",
            partition,
            [Need::Disrupt(Action::CutB), Need::Disrupt(Action::HealB)]
        ),
        scenario!(
            "FED-GUEST-RESTART",
            "B restarted while A sends: B's members get every message once, in order, and can reply",
            guest_restart,
            [Need::Disrupt(Action::RestartB)]
        ),
    ]
}

/// Messages A accepts while B is away.
const WHILE_AWAY: usize = 30;

/// Alice of A, in a group of A with Bob of B; Bob has read everything.
async fn across(ctx: &Ctx) -> Result<(Client, Client, GroupId), Failure> {
    let alice = ctx.client(&ctx.a(), "alice", "laptop").await?;
    let bob = ctx.client(&ctx.b(), "bob", "phone").await?;
    let group = alice.create_group("across").await.ctx("create_group")?;
    alice
        .invite_users(&group, &[ctx.user(&ctx.b(), "bob")])
        .await
        .ctx("inviting bob of B")?;
    let got = joined(&bob).await?;
    ensure!(got == group, "bob joined {got}, not {group}");
    alice.send(&group, b"before").await.ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"before").await?;
    Ok((alice, bob, group))
}

/// Alice's messages `from..to`, each acknowledged by A.
async fn send_range(alice: &Client, group: &GroupId, from: usize, to: usize) -> Outcome {
    for i in from..to {
        alice
            .send(group, format!("m{i}").as_bytes())
            .await
            .ctx(format!("A acknowledging message {i}"))?;
    }
    Ok(())
}

/// Bob's next messages must be alice's `m0..m{count}`, then nothing.
async fn all_arrive(bob: &Client, alice: &Client, group: &GroupId, count: usize) -> Outcome {
    let got = messages(bob, group, count).await?;
    for (i, (sender, body)) in got.iter().enumerate() {
        ensure!(
            sender == alice.id() && body == format!("m{i}").as_bytes(),
            "message {i} arrived as {:?} from {sender}",
            String::from_utf8_lossy(body)
        );
    }
    quiet(bob).await
}

async fn partition(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = across(&ctx).await?;
    // Bob's device is offline too while its DS is unreachable.
    bob.close().await;
    ctx.perform(Action::CutB).await?;
    let sent = send_range(&alice, &group, 0, WHILE_AWAY).await;
    // Heal whatever happened, so later scenarios find B reachable.
    let healed = ctx.perform(Action::HealB).await;
    sent?;
    healed?;
    ctx.wait_until_serving(&ctx.b()).await?;
    let bob = ctx.client(&ctx.b(), "bob", "phone").await?;
    all_arrive(&bob, &alice, &group, WHILE_AWAY).await?;
    bob.send(&group, b"back").await.ctx("bob replies")?;
    expect_message(&alice, &group, bob.id(), b"back").await
}

async fn guest_restart(ctx: Ctx) -> Outcome {
    let (alice, bob, group) = across(&ctx).await?;
    bob.close().await;
    let half = WHILE_AWAY / 2;
    // A's fan-out to B is in flight while B goes down and comes back.
    let (sent, restarted) = tokio::join!(
        send_range(&alice, &group, 0, half),
        ctx.perform(Action::RestartB)
    );
    sent?;
    restarted?;
    ctx.wait_until_serving(&ctx.b()).await?;
    send_range(&alice, &group, half, WHILE_AWAY).await?;
    let bob = ctx.client(&ctx.b(), "bob", "phone").await?;
    all_arrive(&bob, &alice, &group, WHILE_AWAY).await?;
    bob.send(&group, b"back").await.ctx("bob replies")?;
    expect_message(&alice, &group, bob.id(), b"back").await
}
