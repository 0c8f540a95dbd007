//! Two federated domains and their clients: `ds-a.test` owns the group,
//! `ds-b.test` is the guest. Each DS reaches the other through a [`Proxy`]
//! of the test (listening before either starts, re-pointed when a process
//! restarts on new ports). The world counts the owning DS's log of the
//! group (every accepted operation appends one entry), so after each step
//! every member can be required to have read up to exactly that entry.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use ds_core::wire::{
    ClientId, DsErrorCode, DsKeyPackage, DsRequest, DsRequestBody, DsResponseBody, GroupId,
    KeyPackagesRequest, List, SignaturePublicKeys,
};
use openmls::prelude::{BasicCredential, Extension, Extensions, ExternalSender, KeyPackage};
use tempfile::TempDir;

use crate::common::{self, add_request};
use crate::member::{Got, Member};
use crate::net::Endpoint;
use crate::node::{Node, NodeConfig};
use crate::packages::open;
use crate::pki::TestCa;
use crate::poll::Wait;
use crate::proxy::Proxy;

/// The owning domain.
pub const A: &str = "ds-a.test";
/// The guest domain.
pub const B: &str = "ds-b.test";
/// A third domain (hostile tests).
pub const C: &str = "ds-c.test";

/// The two DSs, the link between them, the clients and the group.
pub struct World {
    pub ca: TestCa,
    pub a: Node,
    pub b: Node,
    /// How ds-b.test reaches ds-a.test.
    pub to_a: Proxy,
    /// How ds-a.test reaches ds-b.test.
    pub to_b: Proxy,
    pub members: BTreeMap<String, Member>,
    gid: Option<GroupId>,
    /// The last sequence number of the group's log on the owning DS.
    pub seq: u64,
    pub dir: TempDir,
}

impl World {
    /// Starts ds-b.test and ds-a.test, each trusting the test CA and
    /// knowing the other (and `extra` peers) at a proxy's address.
    pub async fn start_with(extra: &[(&str, SocketAddr)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "test-ca");
        let (to_a, to_b) = (Proxy::start().await, Proxy::start().await);
        let config = |domain: &str, peer: &str, via: &Proxy| {
            let mut peers = vec![(peer.to_owned(), via.addr)];
            peers.extend(extra.iter().map(|(d, a)| ((*d).to_owned(), *a)));
            NodeConfig {
                domain: domain.to_owned(),
                data_dir: dir.path().join(domain),
                cert: ca.issue(domain),
                trust_roots: vec![ca.cert.clone()],
                peers,
                client_ca: ca.cert.clone(),
            }
        };
        let b = Node::start(config(B, A, &to_a));
        to_b.point_to(Some(b.public));
        let a = Node::start(config(A, B, &to_b));
        to_a.point_to(Some(a.public));
        Self {
            ca,
            a,
            b,
            to_a,
            to_b,
            members: BTreeMap::new(),
            gid: None,
            seq: 0,
            dir,
        }
    }

    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub fn node(&self, domain: &str) -> &Node {
        match domain {
            A => &self.a,
            B => &self.b,
            other => panic!("no node {other}"),
        }
    }

    fn node_and_proxy(&mut self, domain: &str) -> (&mut Node, &Proxy) {
        match domain {
            A => (&mut self.a, &self.to_a),
            B => (&mut self.b, &self.to_b),
            other => panic!("no node {other}"),
        }
    }

    /// kill -9 of `domain`'s process; its peer's connections fail.
    pub fn kill9(&mut self, domain: &str) {
        let (node, proxy) = self.node_and_proxy(domain);
        proxy.point_to(None);
        node.kill9();
    }

    /// SIGTERM of `domain`'s process, waiting for a clean exit.
    pub fn stop(&mut self, domain: &str) {
        let (node, proxy) = self.node_and_proxy(domain);
        proxy.point_to(None);
        node.stop();
    }

    /// Starts `domain`'s process again on its data directory.
    pub fn restart(&mut self, domain: &str) {
        let (node, proxy) = self.node_and_proxy(domain);
        node.restart();
        proxy.point_to(Some(node.public));
    }

    /// The owning DS as clients reach it.
    pub fn owner(&self) -> Endpoint {
        self.a.endpoint()
    }

    /// The home DS of client `id`.
    pub fn home(&self, id: &str) -> Endpoint {
        let domain = ClientId::new(id).unwrap().domain().to_owned();
        self.node(&domain).endpoint()
    }

    pub fn member(&mut self, id: &str) -> &mut Member {
        self.members
            .get_mut(id)
            .unwrap_or_else(|| panic!("no member {id}"))
    }

    pub fn gid(&self) -> GroupId {
        self.gid.clone().expect("no group yet")
    }

    /// New clients that register, fetch their voucher and publish key
    /// packages at their home DS.
    pub async fn enrol(&mut self, ids: &[&str]) {
        for id in ids {
            let mut member = Member::new(id);
            member.enrol(&self.home(id)).await;
            self.members.insert((*id).to_owned(), member);
        }
    }

    /// The keys `domain`'s DS publishes.
    pub async fn ds_keys(&self, domain: &str) -> SignaturePublicKeys {
        let answer = self
            .node(domain)
            .endpoint()
            .ds(&common::anonymous(DsRequestBody::SignaturePublicKey))
            .await;
        let DsResponseBody::SignaturePublicKey(keys) = answer else {
            panic!("{domain}: signature_public_key answered {answer:?}")
        };
        keys
    }

    /// `creator` (a client of ds-a.test) creates a group on ds-a.test with
    /// ds-a.test as external sender.
    pub async fn create_group(&mut self, creator: &str) -> GroupId {
        let owner = self.owner();
        let keys = self.ds_keys(A).await;
        let key = keys.keys.as_slice()[0].public_key.as_slice().to_vec();
        let sender = ExternalSender::new(
            key.into(),
            BasicCredential::new(A.as_bytes().to_vec()).into(),
        );
        let extensions = Extensions::single(Extension::ExternalSenders(vec![sender])).unwrap();
        let DsResponseBody::GroupId(gid) = owner
            .ds(&common::anonymous(DsRequestBody::RequestGroupId))
            .await
        else {
            panic!("request_group_id refused")
        };
        let member = self.member(creator);
        let create = member.client.create_group_with(gid.as_str(), extensions);
        let answer = owner
            .ds(&common::anonymous(DsRequestBody::CreateGroup(create)))
            .await;
        assert_eq!(answer, DsResponseBody::Ok, "creating the group");
        member.follow(&gid, 0);
        self.gid = Some(gid.clone());
        gid
    }

    /// `ds_key_packages` for `id` at its home DS (anonymous, as the adder's
    /// client asks the other domain's DS): the one key package served.
    pub async fn fetch_key_package(&self, id: &str) -> Vec<u8> {
        let client_ids = List::new(vec![ClientId::new(id).unwrap()]).unwrap();
        let request = common::anonymous(DsRequestBody::KeyPackages(KeyPackagesRequest {
            client_ids,
        }));
        let answer = self.home(id).ds(&request).await;
        let DsResponseBody::KeyPackages(packages) = answer else {
            panic!("ds_key_packages for {id} answered {answer:?}")
        };
        let [DsKeyPackage::MlsKeyPackage(bytes)] = packages.key_packages.as_slice() else {
            panic!("one key package for {id}")
        };
        bytes.as_slice().to_vec()
    }

    /// Posts `request` of `by` to the owning DS; it must be accepted and
    /// logged as the group's next entry. Merges `by`'s pending commit when
    /// `commit` says it staged one.
    pub async fn accepted(&mut self, by: &str, request: &DsRequest, commit: bool) -> u64 {
        let answer = self.owner().ds(request).await;
        assert_eq!(
            answer,
            DsResponseBody::Ok,
            "{by}'s {}",
            request.body.operation().name()
        );
        if commit {
            self.member(by).client.merge();
        }
        self.seq += 1;
        self.seq
    }

    /// Posts `request` of `by`, which must be refused; `by` drops the
    /// commit it staged. Returns the code.
    pub async fn refused(&mut self, by: &str, request: &DsRequest) -> DsErrorCode {
        let answer = self.owner().ds(request).await;
        let DsResponseBody::Error(error) = answer else {
            panic!("{by}'s request was accepted: {answer:?}")
        };
        let member = self.member(by);
        if member.client.group().pending_commit().is_some() {
            member.client.discard();
        }
        error.code
    }

    /// `by` adds the users of `ids` (key packages fetched from their home
    /// DSs) with AddUsers; each finds the Welcome in its inbox at its home
    /// DS and joins. Returns the commit's sequence number.
    pub async fn add(&mut self, by: &str, ids: &[&str]) -> u64 {
        let mut key_packages: Vec<KeyPackage> = Vec::new();
        for id in ids {
            key_packages.push(open(&self.fetch_key_package(id).await));
        }
        let member = self.member(by);
        let (update, welcome) = member
            .client
            .commit_with(|cb| cb.propose_adds(key_packages));
        let commit = update.commit.as_slice().to_vec();
        let body = DsRequestBody::AddUsers(add_request(update, vec![welcome.unwrap()]));
        let request = member.signed(body, &commit);
        let at = self.accepted(by, &request, true).await;
        let (owner, gid) = (self.owner(), self.gid());
        for id in ids {
            let home = self.home(id);
            let joiner = self.member(id);
            let wait = Wait::new(format!("the Welcome in {id}'s inbox"));
            while {
                joiner.read(&home).await;
                joiner.inbox.is_empty()
            } {
                wait.step().await;
            }
            joiner.join(&owner, &gid, at);
        }
        at
    }

    /// `id` reads its home DS until it has processed entry `seq`; returns
    /// what it made of the new entries.
    pub async fn read_to(&mut self, id: &str, seq: u64) -> Vec<Got> {
        let home = self.home(id);
        let member = self.member(id);
        let mut got = Vec::new();
        let wait = Wait::new(format!("{id} to read entry {seq} from {}", home.domain));
        loop {
            got.extend(member.read(&home).await);
            if member.seen() >= seq {
                break;
            }
            wait.step().await;
        }
        assert_eq!(member.seen(), seq, "{id} read past the log's end");
        got
    }

    /// Every one of `readers` reads up to the log's last entry and got
    /// exactly `expected` on the way.
    pub async fn all_get(&mut self, readers: &[&str], expected: &[Got]) {
        let seq = self.seq;
        for reader in readers {
            let got = self.read_to(reader, seq).await;
            assert_eq!(got, expected, "{reader} reading up to {seq}");
        }
    }

    /// `by` sends `text`; it finds it as its own entry, every reader
    /// decrypts it. Returns its sequence number.
    pub async fn say(&mut self, by: &str, text: &[u8], readers: &[&str]) -> u64 {
        let request = self.member(by).message(text);
        let at = self.accepted(by, &request, false).await;
        self.all_get(&[by], &[Got::Own]).await;
        self.all_get(readers, &[Got::App(text.to_vec())]).await;
        at
    }
}
