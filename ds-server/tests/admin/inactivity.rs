//! The inactivity sweeper: a member not seen for the configured timeout is
//! proposed for removal by the DS, once per epoch however often the sweeper
//! runs; a member's commit carries it out; its registration stays.

use std::time::{Duration, Instant};

use ds_server::service::ServiceOptions;
use ds_server::storage::Timestamp;
use openmls::prelude::LeafNodeIndex;

use crate::common::Received;
use crate::group::{ALICE, BOB, CAROL, Conversation, pending_ds_removals, stored_roster};
use crate::server::Server;
use crate::support::{TestDb, on_both_backends};

const TIMEOUT: Duration = Duration::from_secs(600);
const SWEEP_EVERY: Duration = Duration::from_millis(100);

async fn inactive_members_are_removed_by_the_sweeper(db: TestDb) {
    let store = &db.store;
    let options = ServiceOptions {
        inactivity_timeout: Some(TIMEOUT),
        ..ServiceOptions::default()
    };
    let server = Server::start(store.clone(), options, SWEEP_EVERY).await;
    // Carol was last seen an hour ago; alice and bob just now.
    let carol_seen = Timestamp::now().saturating_sub(Duration::from_secs(3600));
    let mut conv = Conversation::start(&server, store, carol_seen).await;
    let carol_leaf = LeafNodeIndex::new(conv.carol.leaf_index());

    // The sweeper proposes carol's removal.
    let deadline = Instant::now() + Duration::from_secs(20);
    let entries = loop {
        let entries = conv.unseen(store, ALICE, ALICE).await;
        if !entries.is_empty() {
            break entries;
        }
        assert!(Instant::now() < deadline, "no removal was proposed");
        tokio::time::sleep(SWEEP_EVERY).await;
    };
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].sender, None, "the DS is the sender");
    // Later sweeps do not propose it again within the epoch.
    tokio::time::sleep(SWEEP_EVERY * 5).await;
    assert_eq!(conv.unseen(store, ALICE, ALICE).await.len(), 1);

    // Every member sees it, carol included: she is still registered.
    for member in [ALICE, BOB, CAROL] {
        assert_eq!(
            conv.catch_up(store, member, member).await,
            vec![Received::Proposal]
        );
        assert_eq!(pending_ds_removals(conv.member(member)), vec![carol_leaf]);
    }

    // Alice's next commit removes her.
    conv.commit_update(&server, store, ALICE, true).await;
    assert_eq!(stored_roster(store, &conv.gid).await, vec![ALICE, BOB]);
    assert_eq!(conv.catch_up(store, BOB, BOB).await, vec![Received::Commit]);
    // Carol reads up to the commit that removed her, then nothing more.
    assert_eq!(
        conv.catch_up(store, CAROL, CAROL).await,
        vec![Received::Commit]
    );
    assert!(conv.carol.group.is_none(), "carol's client saw its removal");
    assert!(store.groups_of_client(CAROL).await.unwrap().is_empty());
    // Her registration is kept; the active members are left alone.
    assert!(store.client(CAROL).await.unwrap().is_some());
    tokio::time::sleep(SWEEP_EVERY * 5).await;
    assert!(conv.unseen(store, ALICE, ALICE).await.is_empty());
    assert_eq!(stored_roster(store, &conv.gid).await, vec![ALICE, BOB]);

    server.stop().await;
}

on_both_backends!(inactive_members_are_removed_by_the_sweeper);
