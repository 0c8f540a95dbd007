//! Two `mimi-ds` processes on one PostgreSQL database, every member of a
//! group committing for the same epoch at once, half through each process:
//! in every round exactly one commit is accepted, the others are refused
//! with `WrongEpoch`, and after catching up from the log every member is in
//! the same epoch with the same epoch authenticator.

use ds_core::wire::{DsErrorCode, DsRequestBody, DsResponseBody};
use tokio::task::JoinSet;

use crate::common::{self, Client, update_request};
use crate::net::H2;
use crate::process::DsProcess;
use crate::qs::sync_all;
use crate::setup::group_of;
use crate::support::TestDb;

const MEMBERS: usize = 6;
const ROUNDS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_commit_per_epoch_across_two_processes() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first_dir, second_dir) = (dir.path().join("first"), dir.path().join("second"));
    let mut first = DsProcess::start(&first_dir, &db.url, common::DOMAIN);
    // Replicas of one domain share its signing keys (the groups' external
    // sender): the keyring directory is copied.
    let keys = second_dir.join("ds-keys");
    std::fs::create_dir_all(&keys).unwrap();
    for file in std::fs::read_dir(first_dir.join("ds-keys")).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), keys.join(file.file_name())).unwrap();
    }
    let mut second = DsProcess::start(&second_dir, &db.url, common::DOMAIN);
    let conns = [
        H2::connect(first.public, &first.cert).await.unwrap(),
        H2::connect(second.public, &second.cert).await.unwrap(),
    ];

    let mut members: Vec<Client> = (0..MEMBERS)
        .map(|i| Client::new(&format!("user{i}@{}/dev", common::DOMAIN)))
        .collect();
    let (_gid, mut positions) = group_of(&conns[0], &mut members).await;

    for round in 0..ROUNDS {
        let mut racing = JoinSet::new();
        for (i, member) in members.iter_mut().enumerate() {
            let (update, _) = member.commit_with(|cb| cb.force_self_update(true));
            let request = member.signed(DsRequestBody::UpdateClient(update_request(update)));
            let conn = conns[i % 2].clone();
            racing.spawn(async move { (i, conn.ds(&request).await.unwrap()) });
        }
        let mut winners = Vec::new();
        while let Some(result) = racing.join_next().await {
            let (i, answer) = result.unwrap();
            match answer {
                DsResponseBody::Ok => winners.push(i),
                DsResponseBody::Error(e) => {
                    assert_eq!(e.code, DsErrorCode::WrongEpoch, "round {round}: {e}")
                }
                other => panic!("round {round}: unexpected {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let winner = winners[0];

        // Everyone catches up from the log, each through one of the processes.
        for (i, member) in members.iter_mut().enumerate() {
            if i == winner {
                member.merge();
            } else {
                member.discard();
            }
            let (_, entries) = sync_all(&conns[(i + round) % 2], member, &mut positions[i]).await;
            assert_eq!(entries.len(), 1, "exactly one commit in round {round}");
            if i != winner {
                member.receive(entries[0].message.as_slice());
            }
        }
        let epoch = members[0].group().epoch();
        let authenticator = members[0].group().epoch_authenticator().as_slice().to_vec();
        for member in &members {
            assert_eq!(member.group().epoch(), epoch, "{} diverged", member.id);
            assert_eq!(
                member.group().epoch_authenticator().as_slice(),
                authenticator.as_slice(),
                "{} diverged",
                member.id
            );
        }
    }
    // Both replicas stop cleanly with their clients' connections open.
    first.stop();
    second.stop();
}
