//! The SDK against two real federated DSs (`ds-a.test`, `ds-b.test`): users
//! of both domains create groups, invite across domains, converse, and
//! restart mid-conversation, over real HTTPS and live push.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod harness;

use std::time::Duration;

use ds_client_sdk::{Client, ClientId, Event, GroupId, UserId};
use harness::{World, next, quiet};

const ALICE: &str = "alice@ds-a.test";
const BOB: &str = "bob@ds-b.test";

fn cid(id: &str) -> ClientId {
    ClientId::new(id).unwrap()
}

/// `by` sends each of `texts`; `to` gets them, in order, as messages of `by`.
async fn converse(by: &Client, to: &Client, group: &GroupId, texts: &[&str]) {
    for text in texts {
        by.send(group, text.as_bytes()).await.unwrap();
    }
    for text in texts {
        assert_eq!(
            next(to).await,
            Event::Message {
                group: group.clone(),
                sender: by.id().clone(),
                body: text.as_bytes().to_vec(),
            },
            "{} reading {text:?}",
            to.id()
        );
    }
}

/// `owner` creates group `name` and invites `guest`, who joins.
async fn group_of_two(owner: &Client, guest: &Client, name: &str) -> GroupId {
    let group = owner.create_group(name).await.unwrap();
    owner.invite(&group, &[guest.id().clone()]).await.unwrap();
    assert_eq!(
        next(guest).await,
        Event::Joined {
            group: group.clone(),
            name: name.to_owned(),
        }
    );
    group
}

#[tokio::test(flavor = "multi_thread")]
async fn two_users_of_two_domains_converse_in_groups_of_either_domain() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;

    // A group owned by ds-a.test with a guest of ds-b.test.
    let team = group_of_two(&alice, &bob, "team").await;
    assert_eq!(team.domain(), "ds-a.test");
    for client in [&alice, &bob] {
        assert_eq!(
            client.members(&team).await.unwrap(),
            vec![cid("alice@ds-a.test/laptop"), cid("bob@ds-b.test/phone")]
        );
    }
    converse(&alice, &bob, &team, &["one", "two", "three"]).await;
    converse(&bob, &alice, &team, &["four", "five"]).await;
    converse(&alice, &bob, &team, &["six"]).await;

    // A group owned by ds-b.test with a guest of ds-a.test.
    let club = group_of_two(&bob, &alice, "club").await;
    assert_eq!(club.domain(), "ds-b.test");
    converse(&alice, &bob, &club, &["seven"]).await;
    converse(&bob, &alice, &club, &["eight"]).await;

    let mut names: Vec<String> = alice
        .groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    names.sort();
    assert_eq!(names, ["club", "team"]);

    // Every message was delivered once: nothing else is waiting.
    quiet(&alice, Duration::from_secs(1)).await;
    quiet(&bob, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_client_misses_nothing_and_sees_nothing_twice() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let team = group_of_two(&alice, &bob, "team").await;
    converse(&alice, &bob, &team, &["before"]).await;

    // Bob is down while Alice writes.
    drop(bob);
    for text in ["while down 1", "while down 2"] {
        alice.send(&team, text.as_bytes()).await.unwrap();
    }
    let bob = world.client(BOB, "phone").await;
    for text in ["while down 1", "while down 2"] {
        assert_eq!(
            next(&bob).await,
            Event::Message {
                group: team.clone(),
                sender: alice.id().clone(),
                body: text.as_bytes().to_vec(),
            }
        );
    }
    quiet(&bob, Duration::from_secs(1)).await;

    // Bob's client has processed two messages but the application took
    // only one when it stops: the other comes after the restart, once.
    for text in ["pending 1", "pending 2"] {
        alice.send(&team, text.as_bytes()).await.unwrap();
    }
    bob.sync().await.unwrap();
    let first = next(&bob).await;
    assert!(matches!(&first, Event::Message { body, .. } if body == b"pending 1"));
    drop(bob);
    let bob = world.client(BOB, "phone").await;
    let second = next(&bob).await;
    assert!(
        matches!(&second, Event::Message { body, .. } if body == b"pending 2"),
        "{second:?}"
    );
    quiet(&bob, Duration::from_secs(1)).await;

    // The restarted client still takes part in both directions.
    converse(&bob, &alice, &team, &["back again"]).await;
    converse(&alice, &bob, &team, &["welcome back"]).await;
    quiet(&alice, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn removed_members_are_told_and_the_others_see_it() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let carol = world.client("carol@ds-b.test", "tablet").await;
    let team = group_of_two(&alice, &bob, "team").await;
    alice.invite(&team, &[carol.id().clone()]).await.unwrap();
    assert!(matches!(next(&carol).await, Event::Joined { .. }));
    assert_eq!(
        next(&bob).await,
        Event::MembersAdded {
            group: team.clone(),
            members: vec![carol.id().clone()],
        }
    );
    converse(&carol, &bob, &team, &["hello from carol"]).await;
    assert!(matches!(next(&alice).await, Event::Message { .. }));

    alice
        .remove(&team, &UserId::new(BOB).unwrap())
        .await
        .unwrap();
    assert_eq!(
        next(&bob).await,
        Event::Removed {
            group: team.clone()
        }
    );
    assert_eq!(
        next(&carol).await,
        Event::MembersRemoved {
            group: team.clone(),
            members: vec![bob.id().clone()],
        }
    );
    assert!(bob.groups().await.unwrap().is_empty());
    converse(&alice, &carol, &team, &["just us"]).await;
    quiet(&bob, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_commits_of_two_domains_both_land_and_a_leave_is_committed() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let team = group_of_two(&alice, &bob, "team").await;

    // Both commit in the same epoch: one loses with WrongEpoch, catches
    // up and commits again on the next epoch.
    for _ in 0..3 {
        let (a, b) = tokio::join!(alice.update(&team), bob.update(&team));
        a.unwrap();
        b.unwrap();
    }
    converse(&alice, &bob, &team, &["after the race"]).await;
    converse(&bob, &alice, &team, &["agreed"]).await;

    // Bob leaves: his self-removal is committed by Alice's next commit.
    bob.leave(&team).await.unwrap();
    alice.sync().await.unwrap();
    alice.update(&team).await.unwrap();
    assert_eq!(
        next(&bob).await,
        Event::Removed {
            group: team.clone()
        }
    );
    assert_eq!(
        alice.members(&team).await.unwrap(),
        vec![alice.id().clone()]
    );
    quiet(&alice, Duration::from_secs(1)).await;
}
