//! A client of either domain as a real device behaves: registered at its
//! home DS, holding its home DS's voucher in its key packages and leaves,
//! reading its queue from its home DS only (page by page, each group entry
//! processed once and in order: duplicates recognised by `(group,
//! sequence)`), and sending group operations to the owning DS.

use std::collections::HashSet;

use ds_core::group::Outcome;
use ds_core::wire::{
    Bytes, ClientVoucher, DsRequest, DsRequestBody, DsResponseBody, ExternalCommitInfo, GroupId,
    KeyPackageKind, List, MlsGroupUpdate, PageEnd, PublishKeyPackagesRequest, QsRequestBody,
    QsResponseBody, QueuePositions, SendMessageRequest, VOUCHER_EXTENSION_TYPE,
};
use openmls::prelude::{
    Capabilities, Extension, ExtensionType, Extensions, KeyPackage, LeafNodeParameters, MlsGroup,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, RatchetTreeIn, UnknownExtension,
};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{DeserializeBytes as _, Serialize as _};

use crate::common::{CS, Client, Received, pack_bundle};
use crate::net::Endpoint;
use crate::packages::upload;
use crate::qs;

/// Entries per sync page: small, so reading spans pages.
const PAGE: u32 = 3;

/// What a member made of one group-log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// Its own message, proposal or commit (already applied when sent).
    Own,
    /// A commit, merged.
    Commit,
    /// A proposal, stored for a later commit.
    Proposal,
    /// An application message, decrypted.
    App(Vec<u8>),
}

/// A device and how far it has read its queue.
pub struct Member {
    pub client: Client,
    /// Its home DS's voucher, once fetched.
    pub voucher: Option<ClientVoucher>,
    /// The MLS messages it sent, to recognise them in its log.
    sent: HashSet<Vec<u8>>,
    /// Sync positions: past everything read.
    after: QueuePositions,
    /// The group it follows and the last sequence number it processed.
    last: Option<(GroupId, u64)>,
    /// Every group entry it processed, in order: (sequence, message).
    pub log: Vec<(u64, Vec<u8>)>,
    /// Inbox entries read and not yet used: (inbox sequence, message).
    pub inbox: Vec<(u64, Vec<u8>)>,
    /// Duplicates skipped so far.
    pub duplicates: usize,
}

impl Member {
    pub fn new(id: &str) -> Self {
        Self {
            client: Client::new(id),
            voucher: None,
            sent: HashSet::new(),
            after: QueuePositions::default(),
            last: None,
            log: Vec::new(),
            inbox: Vec::new(),
            duplicates: 0,
        }
    }

    pub fn id(&self) -> &str {
        self.client.id.as_str()
    }

    /// The last group-log sequence number processed (0 before joining).
    pub fn seen(&self) -> u64 {
        self.last.as_ref().map_or(0, |(_, seq)| *seq)
    }

    /// Whether the member currently holds group state.
    pub fn in_group(&self) -> bool {
        self.client.group.is_some()
    }

    /// `body` signed with the registered key, made now, fresh nonce.
    pub fn qs_signed(&self, body: QsRequestBody) -> ds_core::wire::QsRequest {
        qs::signed(self.id(), &self.client.signer, body)
    }

    /// Registers at `home` (open policy).
    pub async fn register(&self, home: &Endpoint) {
        let body = qs::register_body(self.client.signer.public(), b"");
        let answer = home.qs(&self.qs_signed(body)).await;
        assert_eq!(answer, QsResponseBody::Ok, "registering {}", self.id());
    }

    /// Asks `home` for a voucher of the registered key and keeps it.
    pub async fn fetch_voucher(&mut self, home: &Endpoint) {
        let answer = home.qs(&self.qs_signed(QsRequestBody::ClientVoucher)).await;
        let QsResponseBody::Voucher(voucher) = answer else {
            panic!("{}: client_voucher answered {answer:?}", self.id())
        };
        assert_eq!(voucher.client_id, self.client.id, "voucher's client");
        assert_eq!(voucher.issuer.as_str(), home.domain, "voucher's issuer");
        assert_eq!(
            voucher.signature_key.as_slice(),
            self.client.signer.public(),
            "voucher's key"
        );
        self.voucher = Some(voucher);
    }

    /// The LeafNode extension carrying `voucher`, TLS-encoded.
    pub fn voucher_extension(voucher: &ClientVoucher) -> Extension {
        Extension::Unknown(
            VOUCHER_EXTENSION_TYPE,
            UnknownExtension(voucher.tls_serialize_detached().unwrap()),
        )
    }

    /// Leaf capabilities that list the voucher extension.
    pub fn capabilities() -> Capabilities {
        let types = [ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE)];
        Capabilities::new(None, None, Some(&types), None, None)
    }

    /// Leaf parameters carrying this member's voucher (for updates and
    /// external joins).
    pub fn leaf_parameters(&self) -> LeafNodeParameters {
        let voucher = self.voucher.as_ref().expect("no voucher fetched");
        LeafNodeParameters::builder()
            .with_capabilities(Self::capabilities())
            .with_extensions(Extensions::single(Self::voucher_extension(voucher)).unwrap())
            .build()
    }

    /// A key package of this member whose leaf carries `voucher` (none:
    /// a bare key package), as the MLSMessage it publishes.
    pub fn key_package_with(&self, voucher: Option<&ClientVoucher>) -> Vec<u8> {
        let mut builder = KeyPackage::builder();
        if let Some(voucher) = voucher {
            builder = builder
                .leaf_node_capabilities(Self::capabilities())
                .leaf_node_extensions(
                    Extensions::single(Self::voucher_extension(voucher)).unwrap(),
                );
        }
        let key_package = builder
            .build(
                CS,
                &self.client.provider,
                &self.client.signer,
                self.client.credential.clone(),
            )
            .unwrap()
            .key_package()
            .clone();
        MlsMessageOut::from(key_package)
            .tls_serialize_detached()
            .unwrap()
    }

    /// Publishes `count` vouched key packages at `home`.
    pub async fn publish(&self, home: &Endpoint, count: usize) {
        let voucher = self.voucher.as_ref().expect("no voucher fetched");
        let uploads = (0..count)
            .map(|_| {
                upload(
                    KeyPackageKind::Regular,
                    self.key_package_with(Some(voucher)),
                )
            })
            .collect();
        let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
            key_packages: List::new(uploads).unwrap(),
        });
        let answer = home.qs(&self.qs_signed(body)).await;
        assert!(
            matches!(answer, QsResponseBody::KeyPackageCount(n) if n as usize >= count),
            "{}: publishing answered {answer:?}",
            self.id()
        );
    }

    /// Registers, fetches its voucher and publishes two key packages.
    pub async fn enrol(&mut self, home: &Endpoint) {
        self.register(home).await;
        self.fetch_voucher(home).await;
        self.publish(home, 2).await;
    }

    /// Signs `body` at its leaf (ClientSignature) and remembers the MLS
    /// message it carries as its own.
    pub fn signed(&mut self, body: DsRequestBody, message: &[u8]) -> DsRequest {
        self.sent.insert(message.to_vec());
        self.client.signed(body)
    }

    /// An application message as a `ds_send_message` request.
    pub fn message(&mut self, text: &[u8]) -> DsRequest {
        let message = self.client.message(text);
        self.signed(
            DsRequestBody::SendMessage(SendMessageRequest {
                application_message: Bytes::new(message.clone()).unwrap(),
            }),
            &message,
        )
    }

    /// Remembers `message` (e.g. an external commit) as its own.
    pub fn mark_sent(&mut self, message: &[u8]) {
        self.sent.insert(message.to_vec());
    }

    /// The group is `gid` and the member has seen its log up to `seq`
    /// (the creator: 0; a joiner: the commit that added it).
    pub fn follow(&mut self, gid: &GroupId, seq: u64) {
        self.last = Some((gid.clone(), seq));
    }

    /// Reads everything new in its queue at `home`, page by page, and
    /// processes the group entries; returns what it made of the new ones.
    pub async fn read(&mut self, home: &Endpoint) -> Vec<Got> {
        let mut got = Vec::new();
        for _ in 0..1000 {
            let body = qs::sync_body(&self.after, PAGE);
            let page = match home.qs(&self.qs_signed(body)).await {
                QsResponseBody::Page(page) => page,
                other => panic!("{}: sync answered {other:?}", self.id()),
            };
            self.after = qs::advance(&self.after, &page);
            for entry in page.inbox.as_slice() {
                self.inbox
                    .push((entry.sequence, entry.message.as_slice().to_vec()));
            }
            for entry in page.group_entries.as_slice() {
                if let Some(one) =
                    self.process(&entry.group_id, entry.sequence, entry.message.as_slice())
                {
                    got.push(one);
                }
            }
            if page.end == PageEnd::Complete {
                return got;
            }
        }
        panic!("{}: sync does not end", self.id())
    }

    /// One group entry: skipped when already processed, else it must be the
    /// next one of the group it follows.
    fn process(&mut self, gid: &GroupId, sequence: u64, message: &[u8]) -> Option<Got> {
        let id = self.id().to_owned();
        let (group, last) = self
            .last
            .as_mut()
            .unwrap_or_else(|| panic!("{id}: an entry of {gid} before it joined"));
        assert_eq!(group, gid, "{id}: an entry of another group");
        if sequence <= *last {
            self.duplicates += 1;
            return None;
        }
        assert_eq!(sequence, *last + 1, "{id}: a gap in the log of {gid}");
        *last = sequence;
        self.log.push((sequence, message.to_vec()));
        if self.sent.contains(message) {
            return Some(Got::Own);
        }
        assert!(
            self.client.group.is_some(),
            "{id}: entry {sequence} after the commit that removed it"
        );
        Some(match self.client.receive(message) {
            Received::Commit => Got::Commit,
            Received::Proposal => Got::Proposal,
            Received::Application(text) => Got::App(text),
            Received::Other => panic!("{id}: entry {sequence} is no message"),
        })
    }

    /// Joins from the only unused Welcome of its inbox, fetching the tree
    /// from the owning DS with a JoinerSignature; it then follows the log
    /// after `added_at`, the commit that added it.
    pub fn join(&mut self, owner: &Endpoint, gid: &GroupId, added_at: u64) {
        assert_eq!(self.inbox.len(), 1, "{}: exactly one Welcome", self.id());
        let (_, welcome) = self.inbox.remove(0);
        self.client
            .join(&welcome, gid, |request| match owner.ds_blocking(request) {
                DsResponseBody::Error(e) => Err(e),
                response => Ok(Outcome {
                    response,
                    effects: vec![],
                    state_changed: false,
                }),
            })
            .unwrap();
        self.follow(gid, added_at);
    }

    /// An external commit joining the group described by `info`, its new
    /// leaf carrying the voucher; the member holds the new group state and
    /// remembers the commit as its own.
    pub fn external_join(&mut self, info: &ExternalCommitInfo) -> MlsGroupUpdate {
        let MlsMessageBodyIn::GroupInfo(group_info) =
            MlsMessageIn::tls_deserialize_exact_bytes(info.group_info.as_slice())
                .unwrap()
                .extract()
        else {
            panic!("not a group info")
        };
        let tree =
            RatchetTreeIn::tls_deserialize_exact_bytes(info.ratchet_tree.as_slice()).unwrap();
        let params = self.leaf_parameters();
        let client = &mut self.client;
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_config(Client::join_config())
            .build_group(&client.provider, group_info, client.credential.clone())
            .unwrap()
            .leaf_node_parameters(params)
            .load_psks(client.provider.storage())
            .unwrap()
            .create_group_info(true)
            .build(
                client.provider.rand(),
                client.provider.crypto(),
                &client.signer,
                |_| true,
            )
            .unwrap()
            .finalize(&client.provider)
            .unwrap();
        client.group = Some(group);
        let (update, _) = pack_bundle(bundle);
        self.mark_sent(update.commit.as_slice());
        update
    }

    /// Everything its queue at `home` holds, read from position zero
    /// (nothing is ever acknowledged in these tests): the inbox messages
    /// and the group entries as (group, sequence, message).
    pub async fn queue(&self, home: &Endpoint) -> Queue {
        let mut after = QueuePositions::default();
        let mut queue = Queue::default();
        for _ in 0..1000 {
            let body = qs::sync_body(&after, 0);
            let page = match home.qs(&self.qs_signed(body)).await {
                QsResponseBody::Page(page) => page,
                other => panic!("{}: sync answered {other:?}", self.id()),
            };
            after = qs::advance(&after, &page);
            queue.inbox.extend(
                page.inbox
                    .as_slice()
                    .iter()
                    .map(|m| m.message.as_slice().to_vec()),
            );
            queue
                .entries
                .extend(page.group_entries.as_slice().iter().map(|e| {
                    (
                        e.group_id.as_str().to_owned(),
                        e.sequence,
                        e.message.as_slice().to_vec(),
                    )
                }));
            if page.end == PageEnd::Complete {
                return queue;
            }
        }
        panic!("{}: sync does not end", self.id())
    }
}

/// A client's whole queue on its home DS.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Queue {
    pub inbox: Vec<Vec<u8>>,
    pub entries: Vec<(String, u64, Vec<u8>)>,
}

impl Queue {
    /// The entries of `group`: (sequence, message).
    pub fn group(&self, group: &str) -> Vec<(u64, Vec<u8>)> {
        self.entries
            .iter()
            .filter(|(g, ..)| g == group)
            .map(|(_, seq, message)| (*seq, message.clone()))
            .collect()
    }
}
