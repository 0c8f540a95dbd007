//! A conversation driven only through the network, against the real `App`
//! with its operator side: members read their queues with signed
//! `QSRequest`s (`POST /mimi/v1/queue`), process the group log strictly in
//! sequence order (deduplicating by `(group, sequence)`), and talk to the DS
//! with `DSRequest`s (`POST /mimi/v1/ds`).

use std::collections::BTreeMap;

use ds_core::group::Outcome;
use ds_core::queue::sign_registered_request;
use ds_core::wire::{
    Bytes, ClientId, DsRequest, DsRequestBody, DsResponseBody, GroupId, GroupLogEntry,
    InboxMessage, KeyPackagesRequest, List, PageEnd, ProtocolVersion, QsRequest, QsRequestBody,
    QsResponse, QsResponseBody, QueuePositions, SendMessageRequest,
};
use ds_server::http::MEDIA_TYPE;
use http::StatusCode;
use openmls::prelude::BasicCredential;
use openmls_basic_credential::SignatureKeyPair;

use crate::common::{self, Client, Received};
use crate::packages::served;
use crate::qs;
use crate::server::Server;
use crate::transport::{Proto, send_to};

/// Page size of every sync: small, so that reading spans several pages.
pub const PAGE: u32 = 2;

/// What a member made of one group-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// Its own message or commit, already applied when it was sent.
    Own,
    /// A commit, merged; the sender as the log names it.
    Commit(Option<String>),
    /// A proposal, stored for a later commit; `None`: the DS's own.
    Proposal(Option<String>),
    /// An application message, decrypted.
    App(String, Vec<u8>),
}

/// A client and how far it has read its queue.
pub struct Member {
    pub client: Client,
    /// Last inbox number processed.
    pub inbox: u64,
    /// Last group-log sequence number processed; `None` before it first joins.
    pub seen: Option<u64>,
}

/// The DS, the group and its (past, present and future) members.
pub struct Scene {
    pub server: Server,
    gid: Option<GroupId>,
    members: BTreeMap<String, Member>,
}

impl Scene {
    pub fn new(server: Server) -> Self {
        Self {
            server,
            gid: None,
            members: BTreeMap::new(),
        }
    }

    /// A new client `id` with a fresh signature key (not registered yet).
    pub fn add(&mut self, id: &str) {
        self.replace(id, Client::new(id));
    }

    /// Gives `id` a new local state (a device that lost its state), keeping
    /// how far it has read its queue.
    pub fn replace(&mut self, id: &str, client: Client) {
        let member = self.members.entry(id.to_owned()).or_insert(Member {
            client: Client::new(id),
            inbox: 0,
            seen: None,
        });
        member.client = client;
    }

    pub fn member(&mut self, id: &str) -> &mut Member {
        self.members
            .get_mut(id)
            .unwrap_or_else(|| panic!("no member {id}"))
    }

    pub fn client(&mut self, id: &str) -> &mut Client {
        &mut self.member(id).client
    }

    /// The (registered) signature key of `id`.
    pub fn signer(&self, id: &str) -> &SignatureKeyPair {
        &self.members[id].client.signer
    }

    /// The group, once created.
    pub fn gid(&self) -> &GroupId {
        self.gid.as_ref().expect("no group yet")
    }

    /// The group exists and `creator` is its only member, at log position 0.
    pub fn created(&mut self, gid: GroupId, creator: &str) {
        self.gid = Some(gid);
        self.member(creator).seen = Some(0);
    }

    /// The last group-log sequence number `id` has processed.
    pub fn seen(&self, id: &str) -> u64 {
        self.members[id].seen.expect("not a member yet")
    }

    /// Signs `body` as `id` with its registered key, posts it to the queue
    /// endpoint over HTTP/2 + TLS and decodes the version-1 answer.
    pub async fn qs(&self, id: &str, body: QsRequestBody) -> QsResponseBody {
        self.qs_request(&qs::signed(id, &self.members[id].client.signer, body))
            .await
    }

    /// Posts a signed queue request as it is and decodes the answer.
    pub async fn qs_request(&self, request: &QsRequest) -> QsResponseBody {
        let answer = send_to(
            self.server.public,
            &self.server.cert,
            Proto::H2,
            qs::queue_post(request.encode().unwrap()),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "body: {:?}", answer.body);
        assert_eq!(answer.content_type.as_deref(), Some(MEDIA_TYPE));
        assert_eq!(answer.version, http::Version::HTTP_2);
        let response = QsResponse::decode(&answer.body).unwrap();
        assert_eq!(response.version, ProtocolVersion::V1);
        response.body
    }

    /// The positions `id` syncs after: its inbox number and, once it has
    /// been in the group, the last group entry it processed.
    pub fn positions(&self, id: &str) -> QueuePositions {
        let member = &self.members[id];
        let groups = match member.seen {
            Some(seen) => vec![(self.gid().as_str(), seen)],
            None => vec![],
        };
        qs::positions(member.inbox, &groups)
    }

    /// Everything in `id`'s queue after `after`, read page by page.
    pub async fn read(
        &self,
        id: &str,
        after: &QueuePositions,
    ) -> (Vec<InboxMessage>, Vec<GroupLogEntry>) {
        let mut after = after.clone();
        let (mut inbox, mut entries) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let page = match self.qs(id, qs::sync_body(&after, PAGE)).await {
                QsResponseBody::Page(page) => page,
                other => panic!("{id}: sync answered {other:?}"),
            };
            let size = page.inbox.len() + page.group_entries.len();
            assert!(size <= PAGE as usize, "{id}: a page of {size} entries");
            after = qs::advance(&after, &page);
            inbox.extend(page.inbox.as_slice().iter().cloned());
            entries.extend(page.group_entries.as_slice().iter().cloned());
            match page.end {
                PageEnd::Complete => return (inbox, entries),
                PageEnd::More => assert!(size > 0, "{id}: an empty page says more waits"),
            }
        }
        panic!("{id}: sync does not end")
    }

    /// Processes `entries` as `id` would: in sequence order, skipping what it
    /// already has by `(group, sequence)`. Returns what it made of the new
    /// entries and how many duplicates it skipped.
    pub fn process(&mut self, id: &str, entries: Vec<GroupLogEntry>) -> (Vec<Got>, usize) {
        let gid = self.gid().clone();
        let member = self.member(id);
        let (mut got, mut duplicates) = (Vec::new(), 0);
        for entry in entries {
            assert_eq!(entry.group_id, gid, "{id}: an entry of another group");
            let last = member
                .seen
                .unwrap_or_else(|| panic!("{id}: group entries before it joined"));
            if entry.sequence <= last {
                duplicates += 1;
                continue;
            }
            assert_eq!(entry.sequence, last + 1, "{id}: a gap in the group log");
            member.seen = Some(entry.sequence);
            let sender = entry.sender.as_ref().map(|c| c.as_str().to_owned());
            if sender.as_deref() == Some(id) {
                got.push(Got::Own);
                continue;
            }
            assert!(
                member.client.group.is_some(),
                "{id}: entry {} after the commit that removed it",
                entry.sequence
            );
            got.push(match member.client.receive(entry.message.as_slice()) {
                Received::Commit => Got::Commit(sender),
                Received::Proposal => Got::Proposal(sender),
                Received::Application(text) => Got::App(sender.expect("a sending client"), text),
                Received::Other => panic!("{id}: entry {} is no message", entry.sequence),
            });
        }
        (got, duplicates)
    }

    /// `id` syncs from its positions and processes the group entries; its
    /// inbox must have nothing new and nothing may be a duplicate.
    pub async fn catch_up(&mut self, id: &str) -> Vec<Got> {
        let (inbox, entries) = self.read(id, &self.positions(id)).await;
        assert!(inbox.is_empty(), "{id}: unexpected inbox entries {inbox:?}");
        let (got, duplicates) = self.process(id, entries);
        assert_eq!(duplicates, 0, "{id}: the DS repeated entries it was past");
        got
    }

    /// `id` syncs, finds `welcome` as the only new entry of its inbox (and
    /// no group entries), and joins with the ratchet tree it fetches with a
    /// JoinerSignature (`ds_welcome_info`). It then follows the log after
    /// `added_at`, the commit that added it.
    pub async fn welcome(&mut self, id: &str, welcome: &[u8], added_at: u64) {
        let (inbox, entries) = self.read(id, &self.positions(id)).await;
        assert!(entries.is_empty(), "{id}: group entries before joining");
        assert_eq!(inbox.len(), 1, "{id}: exactly the Welcome");
        let expected = self.members[id].inbox + 1;
        assert_eq!(inbox[0].sequence, expected, "{id}: inbox numbers gap-free");
        assert_eq!(inbox[0].message.as_slice(), welcome);
        let gid = self.gid().clone();
        let server = &self.server;
        let member = self.members.get_mut(id).unwrap();
        member
            .client
            .join(welcome, &gid, |request| {
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
        member.inbox = expected;
        member.seen = Some(added_at);
    }

    /// `by` posts `body` (its staged commit) signed at its leaf; the DS must
    /// answer `ok`. It merges, finds its commit as the next log entry, and
    /// returns that entry's sequence number.
    pub async fn commit(&mut self, by: &str, body: DsRequestBody) -> u64 {
        let request = self.client(by).signed(body);
        let answer = self.server.post(&request).await;
        assert_eq!(answer, DsResponseBody::Ok, "{by}'s commit");
        self.client(by).merge();
        assert_eq!(self.catch_up(by).await, vec![Got::Own]);
        self.seen(by)
    }

    /// `by` sends `text` with `ds_send_message` (answered `ok`) and finds
    /// it as the next log entry; returns its sequence number.
    pub async fn send(&mut self, by: &str, text: &[u8]) -> u64 {
        let message = self.client(by).message(text);
        let request = self
            .client(by)
            .signed(DsRequestBody::SendMessage(SendMessageRequest {
                application_message: Bytes::new(message).unwrap(),
            }));
        assert_eq!(self.server.post(&request).await, DsResponseBody::Ok);
        assert_eq!(self.catch_up(by).await, vec![Got::Own]);
        self.seen(by)
    }

    /// `by` sends `text`; every one of `readers` syncs and reads it.
    pub async fn say(&mut self, by: &str, text: &[u8], readers: &[&str]) {
        self.send(by, text).await;
        for reader in readers {
            assert_eq!(
                self.catch_up(reader).await,
                vec![Got::App(by.to_owned(), text.to_vec())],
                "{reader} reading {by}"
            );
        }
    }

    /// Every one of `readers` syncs and gets exactly `expected`.
    pub async fn all_get(&mut self, readers: &[&str], expected: &[Got]) {
        for reader in readers {
            assert_eq!(self.catch_up(reader).await, expected, "{reader}");
        }
    }

    /// `body` as a `DSRequest` with `RegisteredClient` auth: signed by `id`
    /// with its registered key, made now, with a fresh nonce.
    pub fn registered(&self, id: &str, body: DsRequestBody) -> DsRequest {
        sign_registered_request(
            body,
            ClientId::new(id).unwrap(),
            qs::now(),
            qs::fresh_nonce(),
            &self.members[id].client.signer,
        )
        .unwrap()
    }

    /// `ds_key_packages` for `id` (anonymous): the one key package served.
    pub async fn fetch_key_package(&self, id: &str) -> Vec<u8> {
        self.fetch_key_package_as(None, id).await
    }

    /// `ds_key_packages` for `id`, anonymous or with `RegisteredClient` auth
    /// by `by`: the one key package served.
    pub async fn fetch_key_package_as(&self, by: Option<&str>, id: &str) -> Vec<u8> {
        let client_ids = List::new(vec![ClientId::new(id).unwrap()]).unwrap();
        let body = DsRequestBody::KeyPackages(KeyPackagesRequest { client_ids });
        let request = match by {
            Some(by) => self.registered(by, body),
            None => common::anonymous(body),
        };
        let DsResponseBody::KeyPackages(answer) = self.server.ok(&request).await else {
            panic!("ds_key_packages did not answer with key packages")
        };
        let mut served = served(&answer);
        assert_eq!(served.len(), 1, "one key package per client asked for");
        served.remove(0)
    }

    /// `members` (exactly the group's members) agree on the epoch, its
    /// authenticator and the roster.
    pub fn converged(&self, members: &[&str], epoch: u64) {
        let mut roster: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        roster.sort();
        let first = self.members[members[0]].client.group();
        for id in members {
            let group = self.members[*id].client.group();
            assert_eq!(group.epoch().as_u64(), epoch, "epoch of {id}");
            assert_eq!(
                group.epoch_authenticator().as_slice(),
                first.epoch_authenticator().as_slice(),
                "epoch authenticator of {id}"
            );
            let mut theirs: Vec<String> = group
                .members()
                .map(|m| {
                    let credential = BasicCredential::try_from(m.credential).unwrap();
                    String::from_utf8(credential.identity().to_vec()).unwrap()
                })
                .collect();
            theirs.sort();
            assert_eq!(theirs, roster, "roster of {id}");
        }
    }
}
