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

    // Invited again, bob joins again (his earlier state of the group is
    // dropped) and hears what comes next, not what he missed.
    alice
        .invite_users(&team, &[UserId::new(BOB).unwrap()])
        .await
        .unwrap();
    assert_eq!(
        next(&bob).await,
        Event::Joined {
            group: team.clone(),
            name: "team".into(),
        }
    );
    assert!(matches!(next(&carol).await, Event::MembersAdded { .. }));
    converse(&alice, &bob, &team, &["welcome back, bob"]).await;
    assert!(matches!(next(&carol).await, Event::Message { .. }));
    for client in [&alice, &bob, &carol] {
        quiet(client, Duration::from_secs(1)).await;
    }
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

    // Bob leaves: Alice's client commits his self-removal by itself.
    bob.leave(&team).await.unwrap();
    assert_eq!(
        next(&alice).await,
        Event::MembersRemoved {
            group: team.clone(),
            members: vec![bob.id().clone()],
        }
    );
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
    assert!(bob.groups().await.unwrap().is_empty());
    quiet(&alice, Duration::from_secs(1)).await;
    quiet(&bob, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leave_is_committed_once_by_one_of_the_remaining_members() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let carol = world.client("carol@ds-b.test", "tablet").await;
    let team = group_of_two(&alice, &bob, "team").await;
    alice.invite(&team, &[carol.id().clone()]).await.unwrap();
    assert!(matches!(next(&carol).await, Event::Joined { .. }));
    assert!(matches!(next(&bob).await, Event::MembersAdded { .. }));

    // Alice and Carol both see Bob's proposal and may both commit it: one
    // commit lands, the other is dropped; each sees the removal once.
    bob.leave(&team).await.unwrap();
    let removed = Event::MembersRemoved {
        group: team.clone(),
        members: vec![bob.id().clone()],
    };
    assert_eq!(next(&alice).await, removed);
    assert_eq!(next(&carol).await, removed);
    assert_eq!(
        next(&bob).await,
        Event::Removed {
            group: team.clone()
        }
    );
    let remaining = vec![alice.id().clone(), carol.id().clone()];
    assert_eq!(alice.members(&team).await.unwrap(), remaining);
    assert_eq!(carol.members(&team).await.unwrap(), remaining);
    converse(&alice, &carol, &team, &["just us"]).await;
    converse(&carol, &alice, &team, &["indeed"]).await;
    quiet(&alice, Duration::from_secs(1)).await;
    quiet(&bob, Duration::from_secs(1)).await;
    quiet(&carol, Duration::from_secs(1)).await;
}

/// The directory of `user/device`'s state in `world` (see `World::client`).
fn state_dir(world: &World, user: &str, device: &str) -> std::path::PathBuf {
    world
        .dir
        .path()
        .join("clients")
        .join(format!("{user}-{device}"))
}

/// Copies every file of directory `from` into `to` (created if missing).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Stops `client` (`user/device`), puts its state back to `backup` (a
/// state whose group keys are long outdated: the group moved on and the
/// DS dropped the acknowledged entries since) and opens it again.
async fn restore(
    world: &World,
    client: Client,
    user: &str,
    device: &str,
    backup: &std::path::Path,
) -> Client {
    drop(client);
    let dir = state_dir(world, user, device);
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(backup, &dir);
    world.client(user, device).await
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_that_lost_their_group_state_rejoin_by_external_commit() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let team = group_of_two(&alice, &bob, "team").await;
    converse(&alice, &bob, &team, &["before the backup"]).await;

    // Backups of both, then the group moves on (new epochs, acknowledged).
    let backups = world.dir.path().join("backups");
    drop(bob);
    copy_dir(&state_dir(&world, BOB, "phone"), &backups.join("bob"));
    let bob = world.client(BOB, "phone").await;
    copy_dir(&state_dir(&world, ALICE, "laptop"), &backups.join("alice"));
    alice.update(&team).await.unwrap();
    bob.update(&team).await.unwrap();
    converse(&alice, &bob, &team, &["after the backup"]).await;
    converse(&bob, &alice, &team, &["noted"]).await;

    // Bob (a guest of ds-a.test: vouched_client) comes back from his
    // backup: his keys of the group are outdated. He rejoins.
    let bob = restore(&world, bob, BOB, "phone", &backups.join("bob")).await;
    bob.rejoin(&team).await.unwrap();
    assert_eq!(
        bob.members(&team).await.unwrap(),
        vec![cid("alice@ds-a.test/laptop"), cid("bob@ds-b.test/phone")]
    );
    converse(&alice, &bob, &team, &["can you read me?"]).await;
    converse(&bob, &alice, &team, &["yes, again"]).await;

    // Alice (of the owning domain: registered_client) too.
    let alice = restore(&world, alice, ALICE, "laptop", &backups.join("alice")).await;
    alice.rejoin(&team).await.unwrap();
    converse(&bob, &alice, &team, &["and you?"]).await;
    converse(&alice, &bob, &team, &["me too"]).await;
    assert_eq!(alice.groups().await.unwrap().len(), 1);
    assert_eq!(
        alice.members(&team).await.unwrap(),
        vec![cid("alice@ds-a.test/laptop"), cid("bob@ds-b.test/phone")]
    );

    // A resync is no membership change, and nothing came twice.
    quiet(&alice, Duration::from_secs(1)).await;
    quiet(&bob, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_devices_of_one_user_each_see_every_message_once() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let phone = world.client(BOB, "phone").await;
    let laptop = world.client(BOB, "laptop").await;
    // A group of ds-a.test; Bob's devices are of ds-b.test.
    let team = group_of_two(&alice, &phone, "team").await;
    phone.add_device(&team, laptop.id()).await.unwrap();
    assert_eq!(
        next(&laptop).await,
        Event::Joined {
            group: team.clone(),
            name: "team".into(),
        }
    );
    assert_eq!(
        next(&alice).await,
        Event::MembersAdded {
            group: team.clone(),
            members: vec![laptop.id().clone()],
        }
    );
    let foreign = phone.add_device(&team, alice.id()).await.unwrap_err();
    assert!(
        matches!(foreign, ds_client_sdk::Error::Membership(_)),
        "{foreign}"
    );

    // Alice's message reaches both devices; each device's reaches Alice
    // and the other device.
    alice.send(&team, b"hi bob").await.unwrap();
    for device in [&phone, &laptop] {
        assert_eq!(
            next(device).await,
            Event::Message {
                group: team.clone(),
                sender: alice.id().clone(),
                body: b"hi bob".to_vec(),
            }
        );
    }
    for (by, other) in [(&phone, &laptop), (&laptop, &phone)] {
        by.send(&team, b"from one device").await.unwrap();
        for to in [&alice, other] {
            assert_eq!(
                next(to).await,
                Event::Message {
                    group: team.clone(),
                    sender: by.id().clone(),
                    body: b"from one device".to_vec(),
                }
            );
        }
    }

    // Removing the user removes both devices.
    alice
        .remove(&team, &UserId::new(BOB).unwrap())
        .await
        .unwrap();
    // Each device learns that the other went too, then that it did.
    for (device, other) in [(&phone, &laptop), (&laptop, &phone)] {
        assert_eq!(
            next(device).await,
            Event::MembersRemoved {
                group: team.clone(),
                members: vec![other.id().clone()],
            }
        );
        assert_eq!(
            next(device).await,
            Event::Removed {
                group: team.clone()
            }
        );
    }
    assert_eq!(
        alice.members(&team).await.unwrap(),
        vec![alice.id().clone()]
    );
    for client in [&alice, &phone, &laptop] {
        quiet(client, Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn inviting_a_user_of_another_domain_adds_all_of_its_devices() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let phone = world.client(BOB, "phone").await;
    let laptop = world.client(BOB, "laptop").await;
    let team = alice.create_group("team").await.unwrap();
    let bob = UserId::new(BOB).unwrap();
    alice
        .invite_users(&team, std::slice::from_ref(&bob))
        .await
        .unwrap();
    for device in [&phone, &laptop] {
        assert_eq!(
            next(device).await,
            Event::Joined {
                group: team.clone(),
                name: "team".into(),
            }
        );
    }
    let mut members = alice.members(&team).await.unwrap();
    members.sort();
    assert_eq!(
        members,
        vec![
            cid("alice@ds-a.test/laptop"),
            cid("bob@ds-b.test/laptop"),
            cid("bob@ds-b.test/phone"),
        ]
    );
    let again = alice.invite_users(&team, &[bob]).await.unwrap_err();
    assert!(
        matches!(again, ds_client_sdk::Error::Membership(_)),
        "{again}"
    );

    alice.send(&team, b"both of you?").await.unwrap();
    laptop.send(&team, b"from the laptop").await.unwrap();
    for device in [&phone, &laptop] {
        assert_eq!(
            next(device).await,
            Event::Message {
                group: team.clone(),
                sender: alice.id().clone(),
                body: b"both of you?".to_vec(),
            }
        );
    }
    for to in [&alice, &phone] {
        assert_eq!(
            next(to).await,
            Event::Message {
                group: team.clone(),
                sender: laptop.id().clone(),
                body: b"from the laptop".to_vec(),
            }
        );
    }
    for client in [&alice, &phone, &laptop] {
        quiet(client, Duration::from_secs(1)).await;
    }
}

/// A device whose whole state directory was deleted has lost its key too,
/// and the DS will not register its id again with another key: it comes
/// back under a new device name and rejoins its user's group by external
/// commit. Three users on two domains; nothing is lost or seen twice by
/// the others, and the group goes on for everyone.
#[tokio::test(flavor = "multi_thread")]
async fn a_device_whose_state_was_deleted_rejoins_as_a_new_device() {
    let world = World::start().await;
    let alice = world.client(ALICE, "laptop").await;
    let bob = world.client(BOB, "phone").await;
    let carol = world.client("carol@ds-b.test", "tablet").await;
    let team = group_of_two(&alice, &bob, "team").await;
    alice
        .invite_users(&team, &[UserId::new("carol@ds-b.test").unwrap()])
        .await
        .unwrap();
    assert!(matches!(next(&carol).await, Event::Joined { .. }));
    assert!(matches!(next(&bob).await, Event::MembersAdded { .. }));
    converse(&alice, &bob, &team, &["before bob's disk died"]).await;
    assert!(matches!(next(&carol).await, Event::Message { .. }));

    // Bob's phone loses everything.
    let old_phone = bob.id().clone();
    drop(bob);
    std::fs::remove_dir_all(state_dir(&world, BOB, "phone")).unwrap();
    let bob = world.client(BOB, "phone-2").await;
    assert!(bob.groups().await.unwrap().is_empty());
    bob.rejoin(&team).await.unwrap();
    for other in [&alice, &carol] {
        assert_eq!(
            next(other).await,
            Event::MembersAdded {
                group: team.clone(),
                members: vec![bob.id().clone()],
            }
        );
    }
    let members = bob.members(&team).await.unwrap();
    assert!(members.contains(bob.id()) && members.contains(&old_phone));

    // Everyone hears everyone once.
    converse(&alice, &bob, &team, &["welcome back"]).await;
    assert!(matches!(next(&carol).await, Event::Message { .. }));
    converse(&bob, &carol, &team, &["thanks"]).await;
    assert!(matches!(next(&alice).await, Event::Message { .. }));
    for client in [&alice, &bob, &carol] {
        quiet(client, Duration::from_secs(1)).await;
    }
}

/// A message another member sent just before this client's own commit was
/// accepted is logged before that commit but read after the client merged
/// it: it is still read (with the kept keys of the earlier epoch), in log
/// order, not skipped.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_logged_just_before_an_own_commit_is_still_read() {
    let world = World::start().await;
    let dir = world.dir.path().join("clients").join("alice-quiet");
    let mut config = world.config(ALICE, "laptop", &dir);
    config.tuning.live_push = false;
    let alice = Client::open(config).await.unwrap();
    let bob = world.client(BOB, "phone").await;
    let team = group_of_two(&alice, &bob, "team").await;

    bob.send(&team, b"before").await.unwrap();
    // Alice commits without having read bob's message.
    alice.update(&team).await.unwrap();
    bob.send(&team, b"after").await.unwrap();
    for text in ["before", "after"] {
        assert_eq!(
            next(&alice).await,
            Event::Message {
                group: team.clone(),
                sender: bob.id().clone(),
                body: text.as_bytes().to_vec(),
            }
        );
    }
    quiet(&alice, Duration::from_millis(500)).await;
}
