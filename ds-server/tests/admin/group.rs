//! A three-member group built over the network: alice creates it with the DS
//! as external sender and adds bob and carol, who join with the tree the DS
//! hands out. Members follow the group through the log in storage.

use std::collections::BTreeMap;

use ds_core::group::{DsGroup, Outcome};
use ds_core::wire::{DsRequestBody, DsResponseBody, GroupId};
use ds_server::storage::{Cursors, GroupEntry, Store, Timestamp};
use openmls::prelude::{LeafNodeIndex, Proposal, Sender};

use crate::common::{self, Client, Received, add_request, update_request};
use crate::server::Server;

pub const ALICE: &str = "alice@ds-a.example/laptop";
pub const BOB: &str = "bob@ds-a.example/phone";
pub const CAROL: &str = "carol@ds-a.example/tablet";

pub struct Conversation {
    pub gid: GroupId,
    pub alice: Client,
    pub bob: Client,
    pub carol: Client,
    /// Last log sequence number each member has processed.
    seen: BTreeMap<String, u64>,
}

pub async fn register(store: &Store, client: &Client, last_seen: Timestamp) {
    store
        .register_client(client.id.as_str(), client.signer.public(), last_seen)
        .await
        .unwrap();
}

impl Conversation {
    /// Registers alice and bob now and carol as last seen at `carol_seen`,
    /// then builds the group over the network.
    pub async fn start(server: &Server, store: &Store, carol_seen: Timestamp) -> Self {
        let mut alice = Client::new(ALICE);
        let mut bob = Client::new(BOB);
        let mut carol = Client::new(CAROL);
        register(store, &alice, Timestamp::now()).await;
        register(store, &bob, Timestamp::now()).await;
        register(store, &carol, carol_seen).await;

        let DsResponseBody::GroupId(gid) = server
            .ok(&common::anonymous(DsRequestBody::RequestGroupId))
            .await
        else {
            panic!("request_group_id did not answer with a group id")
        };
        let create = alice.create_group_with(gid.as_str(), server.group_extensions());
        let created = server
            .ok(&common::anonymous(DsRequestBody::CreateGroup(create)))
            .await;
        assert!(matches!(created, DsResponseBody::Ok), "got {created:?}");

        let key_packages = vec![bob.key_package(), carol.key_package()];
        let (update, welcome) = alice.commit_with(|cb| cb.propose_adds(key_packages));
        let welcome = welcome.expect("an add commit comes with a Welcome");
        let added = server
            .ok(&alice.signed(DsRequestBody::AddUsers(add_request(
                update,
                vec![welcome.clone()],
            ))))
            .await;
        assert!(matches!(added, DsResponseBody::Ok), "got {added:?}");
        alice.merge();
        for joiner in [&mut bob, &mut carol] {
            joiner
                .join(&welcome, &gid, |request| {
                    match server.post_blocking(request) {
                        DsResponseBody::Error(e) => Err(e),
                        response => Ok(Outcome {
                            response,
                            effects: vec![],
                            state_changed: false,
                        }),
                    }
                })
                .unwrap();
            assert_eq!(joiner.group().epoch(), alice.group().epoch());
        }
        // Creating the group logs nothing: alice's add commit is entry 1,
        // and everyone has processed it.
        let log = store.sync(ALICE, &Cursors::default(), 10).await.unwrap();
        let first = &log.group_entries[0];
        assert_eq!((first.seq, first.sender.as_deref()), (1, Some(ALICE)));
        let seen = [ALICE, BOB, CAROL].map(|id| (id.to_owned(), 1)).into();
        Self {
            gid,
            alice,
            bob,
            carol,
            seen,
        }
    }

    pub fn member(&mut self, id: &str) -> &mut Client {
        match id {
            ALICE => &mut self.alice,
            BOB => &mut self.bob,
            CAROL => &mut self.carol,
            other => panic!("no member {other}"),
        }
    }

    /// The log entries `id` has not processed yet, as storage serves them
    /// to that client (`reader` — a deleted client can no longer sync).
    pub async fn unseen(&self, store: &Store, id: &str, reader: &str) -> Vec<GroupEntry> {
        let after = Cursors {
            groups: [(self.gid.as_str().to_owned(), self.seen[id])].into(),
            inbox: 0,
        };
        let page = store.sync(reader, &after, 1000).await.unwrap();
        assert!(!page.has_more);
        page.group_entries
            .into_iter()
            .filter(|e| e.group_id == self.gid.as_str())
            .collect()
    }

    /// Lets member `id` process every unseen entry (read through `reader`),
    /// returning what it made of them.
    pub async fn catch_up(&mut self, store: &Store, id: &str, reader: &str) -> Vec<Received> {
        let entries = self.unseen(store, id, reader).await;
        let mut received = Vec::new();
        for entry in entries {
            received.push(self.member(id).receive(&entry.message));
            self.seen.insert(id.to_owned(), entry.seq);
        }
        received
    }

    /// `id` commits an update, with its pending proposals included by
    /// reference if `include_pending`, and the DS must accept it. The
    /// committer merges and skips its own commit in the log (not what the
    /// DS logged after it).
    pub async fn commit_update(
        &mut self,
        server: &Server,
        store: &Store,
        id: &str,
        include_pending: bool,
    ) {
        let member = self.member(id);
        let (update, _) = member.commit_with(|cb| {
            cb.consume_proposal_store(include_pending)
                .force_self_update(true)
        });
        let request = member.signed(DsRequestBody::UpdateClient(update_request(update)));
        let body = server.post(&request).await;
        assert!(
            matches!(body, DsResponseBody::Ok),
            "update refused: {body:?}"
        );
        self.member(id).merge();
        let entries = self.unseen(store, id, id).await;
        let own = entries.first().expect("the commit is in the log");
        assert_eq!(own.sender.as_deref(), Some(id));
        self.seen.insert(id.to_owned(), own.seq);
    }
}

/// The leaf of the DS-signed Remove proposals `client` holds pending.
pub fn pending_ds_removals(client: &Client) -> Vec<LeafNodeIndex> {
    client
        .group()
        .pending_proposals()
        .filter(|p| matches!(p.sender(), Sender::External(_)))
        .filter_map(|p| match p.proposal() {
            Proposal::Remove(r) => Some(r.removed()),
            _ => None,
        })
        .collect()
}

/// The DS's current view of the group, from storage.
pub async fn stored_group(store: &Store, gid: &GroupId) -> DsGroup {
    let row = store.load_group(gid.as_str()).await.unwrap().unwrap();
    DsGroup::from_bytes(&row.state).unwrap()
}

/// The client ids in the DS's stored roster, sorted.
pub async fn stored_roster(store: &Store, gid: &GroupId) -> Vec<String> {
    let mut roster: Vec<String> = stored_group(store, gid)
        .await
        .roster()
        .clients()
        .map(|c| c.as_str().to_owned())
        .collect();
    roster.sort();
    roster
}
