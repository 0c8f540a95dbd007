//! Ordering under concurrency and catch-up: members that commit and send at
//! the same time all succeed (a lost race is `WrongEpoch`, retried), every
//! receiver sees every other member's messages once, each sender's in its
//! order, and all receivers in one global order (the owning DS's log); a
//! client that was away gets what it missed, in order, once; live push
//! delivers without polling.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ds_client_sdk::{Client, ClientId, Domain, GroupId, Tuning};

use crate::ctx::Ctx;
use crate::events::{EVENT_WAIT, expect_message, joined, messages, next_message, quiet};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "CS-CONCURRENT-COMMITS",
            "update_client by four members at once: every update is accepted and the members converge",
            concurrent_commits
        ),
        scenario!(
            "CS-CONCURRENT-SENDS",
            "send_message by three members at once: all arrive once, per sender in order, in one global order",
            concurrent_sends
        ),
        scenario!(
            "FED-CONCURRENT",
            "send_message and update_client at once on A and B: all accepted, every receiver sees one order",
            fed_concurrent
        ),
        scenario!(
            "CS-CATCH-UP",
            "sync after 20 messages sent while the client was closed: all arrive, in order, once",
            cs_catch_up
        ),
        scenario!(
            "FED-CATCH-UP",
            "sync at B after 20 messages of A's group sent while B's client was closed: all arrive in order, once",
            fed_catch_up
        ),
        scenario!(
            "CS-PUSH",
            "live push: with a 10-minute poll interval a new message still arrives at once",
            push
        ),
    ]
}

/// One member of a group to build: domain, user name, device.
pub(super) type Member<'a> = (&'a Domain, &'a str, &'a str);

/// Opens `members` (the first creates the group, of its home domain) with
/// `tune`, and invites every other user with one `invite_users`; each
/// client has joined when this returns.
pub(super) async fn group_of(
    ctx: &Ctx,
    name: &str,
    members: &[Member<'_>],
    tune: fn(&mut Tuning),
) -> Result<(Vec<Arc<Client>>, GroupId), Failure> {
    let mut clients = Vec::with_capacity(members.len());
    for (domain, user, device) in members {
        clients.push(Arc::new(
            ctx.client_tuned(domain, user, device, tune).await?,
        ));
    }
    let Some(creator) = clients.first() else {
        return Err(Failure("a group needs a member".into()));
    };
    let group = creator.create_group(name).await.ctx("create_group")?;
    let mut users = Vec::new();
    for client in &clients[1..] {
        let user = client.id().user();
        if user != creator.id().user() && !users.contains(user) {
            users.push(user.clone());
        }
    }
    creator
        .invite_users(&group, &users)
        .await
        .ctx(format!("inviting {users:?}"))?;
    for client in &clients[1..] {
        let got = joined(client).await?;
        ensure!(got == group, "{} joined {got}, not {group}", client.id());
    }
    Ok((clients, group))
}

/// Alice of A creates a group and invites Bob of `bob_domain`, who has
/// joined when this returns.
pub(super) async fn pair_with(
    ctx: &Ctx,
    bob_domain: &Domain,
) -> Result<(Client, Client, GroupId), Failure> {
    let bob = ctx.client(bob_domain, "bob", "phone").await?;
    let alice = ctx.client(&ctx.a(), "alice", "laptop").await?;
    let group = alice.create_group("pair").await.ctx("create_group")?;
    alice
        .invite_users(&group, &[ctx.user(bob_domain, "bob")])
        .await
        .ctx(format!("inviting bob of {bob_domain}"))?;
    let got = joined(&bob).await?;
    ensure!(got == group, "bob joined {got}, not {group}");
    Ok((alice, bob, group))
}

/// Runs every task at once (each on its own task, so truly concurrently);
/// the first failure, after all have finished.
pub(super) async fn at_once<F>(tasks: Vec<F>) -> Outcome
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
    let mut first = Ok(());
    for handle in handles {
        let outcome = handle
            .await
            .unwrap_or_else(|e| Err(Failure(format!("a task: {e}"))));
        if first.is_ok() {
            first = outcome;
        }
    }
    first
}

/// A check borrowing the scenario's clients.
type Check<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Runs `checks` together in this task; the first failure, after all have
/// finished.
pub(super) async fn together(checks: Vec<Check<'_>>) -> Outcome {
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .find(Result::is_err)
        .unwrap_or(Ok(()))
}

/// None of `clients` gets anything within [`QUIET`](crate::events::QUIET)
/// (waited once for all).
pub(super) async fn quiet_all(clients: &[&Client]) -> Outcome {
    together(
        clients
            .iter()
            .map(|c| Box::pin(quiet(c)) as Check<'_>)
            .collect(),
    )
    .await
}

/// Messages a client read, in order: (sender, body).
type Received = Vec<(ClientId, Vec<u8>)>;

/// A reader and what it read.
pub(super) type Seen<'a> = (&'a ClientId, Received);

/// The body of a sender's `i`th message.
fn body(i: usize) -> Vec<u8> {
    format!("m{i}").into_bytes()
}

/// Sends `m0..m{count}`, updating after every `update_every`th message
/// (never if 0).
async fn send_all(
    client: Arc<Client>,
    group: GroupId,
    count: usize,
    update_every: usize,
) -> Outcome {
    for i in 0..count {
        client
            .send(&group, &body(i))
            .await
            .ctx(format!("{} sending m{i}", client.id()))?;
        if update_every > 0 && (i + 1) % update_every == 0 {
            client
                .update(&group)
                .await
                .ctx(format!("{} updating after m{i}", client.id()))?;
        }
    }
    Ok(())
}

/// What `reader` got must be, from each of `senders` but itself,
/// `m0..m{per_sender}` in order, and nothing of its own.
pub(super) fn check_streams(
    reader: &ClientId,
    got: &[(ClientId, Vec<u8>)],
    senders: &[&ClientId],
    per_sender: usize,
) -> Outcome {
    for (sender, _) in got {
        ensure!(sender != reader, "{reader} got a message of its own");
        ensure!(
            senders.contains(&sender),
            "{reader} got a message of {sender}, who sent none"
        );
    }
    for sender in senders.iter().filter(|s| **s != reader) {
        let bodies: Vec<String> = got
            .iter()
            .filter(|(s, _)| s == *sender)
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
            .collect();
        let want: Vec<String> = (0..per_sender).map(|i| format!("m{i}")).collect();
        ensure!(
            bodies == want,
            "{reader} got from {sender} {bodies:?}, expected {want:?}"
        );
    }
    Ok(())
}

/// Every two receivers saw the messages both got in the same order: for
/// readers r1 and r2, their sequences restricted to senders other than r1
/// and r2 are equal.
pub(super) fn check_one_order(seen: &[Seen<'_>]) -> Outcome {
    for (i, (r1, got1)) in seen.iter().enumerate() {
        for (r2, got2) in &seen[i + 1..] {
            let common = |got: &[(ClientId, Vec<u8>)]| -> Vec<String> {
                got.iter()
                    .filter(|(s, _)| s != *r1 && s != *r2)
                    .map(|(s, b)| format!("{s}:{}", String::from_utf8_lossy(b)))
                    .collect()
            };
            let (one, two) = (common(got1), common(got2));
            if let Some(at) = (0..one.len().max(two.len())).find(|&k| one.get(k) != two.get(k)) {
                return Err(Failure(format!(
                    "{r1} and {r2} saw different orders: at {at}, {:?} against {:?}",
                    one.get(at),
                    two.get(at)
                )));
            }
        }
    }
    Ok(())
}

/// Every client's member list is exactly `expected`.
pub(super) async fn members_are(
    clients: &[&Client],
    group: &GroupId,
    expected: &[&ClientId],
) -> Outcome {
    let mut want: Vec<ClientId> = expected.iter().map(|c| (*c).clone()).collect();
    want.sort();
    for client in clients {
        let mut got = client
            .members(group)
            .await
            .ctx(format!("{}: members", client.id()))?;
        got.sort();
        ensure!(
            got == want,
            "{} sees members {got:?}, expected {want:?}",
            client.id()
        );
    }
    Ok(())
}

/// Each client sends one message in turn, which every other one gets next.
pub(super) async fn round(clients: &[&Client], group: &GroupId, text: &str) -> Outcome {
    for sender in clients {
        let body = format!("{text} from {}", sender.id());
        sender
            .send(group, body.as_bytes())
            .await
            .ctx(format!("{} sends", sender.id()))?;
        for reader in clients.iter().filter(|c| c.id() != sender.id()) {
            expect_message(reader, group, sender.id(), body.as_bytes()).await?;
        }
    }
    Ok(())
}

async fn concurrent_commits(ctx: Ctx) -> Outcome {
    let a = ctx.a();
    let members = [
        (&a, "alice", "laptop"),
        (&a, "bob", "phone"),
        (&a, "carol", "phone"),
        (&a, "dave", "phone"),
    ];
    let (clients, group) = group_of(&ctx, "race", &members, |_| {}).await?;
    const UPDATES: usize = 3;
    let tasks = clients
        .iter()
        .map(|client| {
            let (client, group) = (Arc::clone(client), group.clone());
            async move {
                for i in 0..UPDATES {
                    client
                        .update(&group)
                        .await
                        .ctx(format!("{}: update {i}", client.id()))?;
                }
                Ok(())
            }
        })
        .collect();
    at_once(tasks).await?;
    let refs: Vec<&Client> = clients.iter().map(|c| c.as_ref()).collect();
    // Every member can read every other's message: one epoch for all.
    round(&refs, &group, "after the race").await?;
    let ids: Vec<&ClientId> = clients.iter().map(|c| c.id()).collect();
    members_are(&refs, &group, &ids).await
}

/// Messages each sender sends in the concurrent scenarios.
const EACH: usize = 10;

async fn concurrent_sends(ctx: Ctx) -> Outcome {
    let a = ctx.a();
    // Dave only listens, so that every two receivers share two senders.
    let members = [
        (&a, "alice", "laptop"),
        (&a, "bob", "phone"),
        (&a, "carol", "phone"),
        (&a, "dave", "phone"),
    ];
    let (clients, group) = group_of(&ctx, "chatter", &members, |_| {}).await?;
    let senders = &clients[..3];
    let tasks = senders
        .iter()
        .map(|c| send_all(Arc::clone(c), group.clone(), EACH, 0))
        .collect();
    at_once(tasks).await?;
    let sender_ids: Vec<&ClientId> = senders.iter().map(|c| c.id()).collect();
    everyone_sees_one_order(&clients, &group, &sender_ids).await
}

async fn fed_concurrent(ctx: Ctx) -> Outcome {
    let (a, b) = (ctx.a(), ctx.b());
    let members = [
        (&a, "alice", "laptop"),
        (&b, "bob", "phone"),
        (&a, "carol", "phone"),
        (&b, "dave", "phone"),
    ];
    let (clients, group) = group_of(&ctx, "crowd", &members, |_| {}).await?;
    const PER: usize = 8;
    let tasks = clients
        .iter()
        .map(|c| send_all(Arc::clone(c), group.clone(), PER, 3))
        .collect();
    at_once(tasks).await?;
    let ids: Vec<&ClientId> = clients.iter().map(|c| c.id()).collect();
    let got = gather(&clients, &group, &ids, PER).await?;
    check_one_order(&got)?;
    let refs: Vec<&Client> = clients.iter().map(|c| c.as_ref()).collect();
    members_are(&refs, &group, &ids).await
}

/// Every client must get, from each of `senders` but itself, `EACH`
/// messages in order, then nothing; all in one order.
async fn everyone_sees_one_order(
    clients: &[Arc<Client>],
    group: &GroupId,
    senders: &[&ClientId],
) -> Outcome {
    let got = gather(clients, group, senders, EACH).await?;
    check_one_order(&got)
}

/// What each client reads: the messages of each of `senders` but itself,
/// `per_sender` each, checked with [`check_streams`]; then it is quiet.
async fn gather<'a>(
    clients: &'a [Arc<Client>],
    group: &GroupId,
    senders: &[&ClientId],
    per_sender: usize,
) -> Result<Vec<Seen<'a>>, Failure> {
    let mut seen = Vec::with_capacity(clients.len());
    for client in clients {
        let others = senders.iter().filter(|s| **s != client.id()).count();
        let got = messages(client, group, others * per_sender).await?;
        check_streams(client.id(), &got, senders, per_sender)?;
        seen.push((client.id(), got));
    }
    let refs: Vec<&Client> = clients.iter().map(|c| c.as_ref()).collect();
    quiet_all(&refs).await?;
    Ok(seen)
}

/// Messages sent while the reader is away.
const AWAY: usize = 20;

/// Bob closes his client, Alice sends [`AWAY`] messages, Bob reopens it
/// from its state directory: all of them, in order, once, then nothing.
async fn catch_up(ctx: &Ctx, bob_domain: &Domain) -> Outcome {
    let (alice, bob, group) = pair_with(ctx, bob_domain).await?;
    bob.close().await;
    for i in 0..AWAY {
        alice
            .send(&group, &body(i))
            .await
            .ctx(format!("alice sends m{i}"))?;
    }
    let bob = ctx.client(bob_domain, "bob", "phone").await?;
    let got = messages(&bob, &group, AWAY).await?;
    check_streams(bob.id(), &got, &[alice.id()], AWAY)?;
    quiet(&bob).await?;
    bob.send(&group, b"back").await.ctx("bob replies")?;
    expect_message(&alice, &group, bob.id(), b"back").await
}

async fn cs_catch_up(ctx: Ctx) -> Outcome {
    catch_up(&ctx, &ctx.a()).await
}

async fn fed_catch_up(ctx: Ctx) -> Outcome {
    catch_up(&ctx, &ctx.b()).await
}

/// How long after Bob starts waiting (and so after the sync each wait
/// begins with) Alice sends.
const AFTER_SYNC: Duration = Duration::from_millis(400);

async fn push(ctx: Ctx) -> Outcome {
    let a = ctx.a();
    let alice = ctx.client(&a, "alice", "laptop").await?;
    // Bob polls only every ten minutes: what arrives sooner came by push.
    let bob = ctx
        .client_tuned(&a, "bob", "phone", |t| {
            t.poll_interval = Duration::from_secs(600);
        })
        .await?;
    let group = alice.create_group("push").await.ctx("create_group")?;
    alice
        .invite(&group, &[bob.id().clone()])
        .await
        .ctx("invite")?;
    let got = joined(&bob).await?;
    ensure!(got == group, "bob joined {got}, not {group}");
    for i in 0..3 {
        let text = format!("pushed {i}");
        // Each wait syncs once as it starts; the message is sent after that.
        let (received, sent) = tokio::join!(next_message(&bob), async {
            tokio::time::sleep(AFTER_SYNC).await;
            alice.send(&group, text.as_bytes()).await
        });
        sent.ctx(format!("alice sends {text:?}"))?;
        let (in_group, sender, got) = received.map_err(|e| {
            Failure(format!(
                "{} (no push within {EVENT_WAIT:?}, polling every 600 s)",
                e.0
            ))
        })?;
        ensure!(
            in_group == group && &sender == alice.id() && got == text.as_bytes(),
            "bob got {:?} from {sender} in {in_group}, expected {text:?} from {}",
            String::from_utf8_lossy(&got),
            alice.id()
        );
    }
    quiet(&bob).await
}
