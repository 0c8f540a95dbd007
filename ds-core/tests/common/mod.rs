//! Real openmls clients and a DS engine for tests: no mocks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ds_core::federation::{VoucherKeys, voucher_signing_content};
use ds_core::group::{DsGroup, EngineContext, Outcome, client_signature_content};
use ds_core::wire::*;
use ds_core::wire::{GroupId, ProtocolVersion};
use openmls::prelude::ProtocolVersion as MlsVersion;
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::signatures::Signer;
use tls_codec::Serialize as _;

pub const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
pub const DOMAIN: &str = "ds-a.example";
pub const NOW: u64 = 1_800_000_000;
/// Other domains whose home DS keys the test DS knows.
pub const KNOWN_DOMAINS: [&str; 2] = ["ds-b.example", "ds-c.example"];
/// Lifetime of the vouchers test clients get.
pub const VOUCHER_TTL: u64 = 30 * 24 * 3600;

/// The Ed25519 signing key of the home DS of each of [`KNOWN_DOMAINS`] and
/// of `ds-x.example` (a domain the test DS knows no keys of).
pub fn home_ds_key(domain: &str) -> &'static SignatureKeyPair {
    static KEYS: OnceLock<BTreeMap<String, SignatureKeyPair>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        KNOWN_DOMAINS
            .iter()
            .chain(&["ds-x.example"])
            .map(|d| {
                let key = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
                (d.to_string(), key)
            })
            .collect()
    });
    keys.get(domain)
        .unwrap_or_else(|| panic!("no home DS key of {domain}"))
}

/// `key` as the DS signing key `key_id` its DS publishes.
pub fn published_key(key: &SignatureKeyPair, key_id: &[u8]) -> DsSigningKey {
    DsSigningKey {
        key_id: ShortBytes::new(key_id.to_vec()).unwrap(),
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        public_key: Bytes::new(key.public().to_vec()).unwrap(),
        not_after: 0,
    }
}

/// A voucher of `issuer` (signing with `key`, published as "k1") for
/// `client` and its leaf key `signature_key`, valid until `not_after`.
pub fn voucher_by(
    issuer: &str,
    key: &SignatureKeyPair,
    client: &ClientId,
    signature_key: &[u8],
    not_after: u64,
) -> ClientVoucher {
    let mut voucher = ClientVoucher {
        issuer: Domain::new(issuer).unwrap(),
        key_id: ShortBytes::new(b"k1".to_vec()).unwrap(),
        client_id: client.clone(),
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: Bytes::new(signature_key.to_vec()).unwrap(),
        not_after,
        signature: ShortBytes::default(),
    };
    let content = voucher_signing_content(&voucher).unwrap();
    voucher.signature = ShortBytes::new(key.sign(&content).unwrap()).unwrap();
    voucher
}

/// What the test DS knows of other domains' keys: fixed, no I/O.
#[derive(Debug, Default)]
pub struct KnownKeys(pub BTreeMap<Domain, Vec<DsSigningKey>>);

impl KnownKeys {
    /// The published "k1" keys of [`KNOWN_DOMAINS`].
    pub fn of_known_domains() -> Self {
        Self(
            KNOWN_DOMAINS
                .iter()
                .map(|d| {
                    let key = published_key(home_ds_key(d), b"k1");
                    (Domain::new(d).unwrap(), vec![key])
                })
                .collect(),
        )
    }
}

impl VoucherKeys for KnownKeys {
    fn keys(&self, domain: &Domain) -> Option<Vec<DsSigningKey>> {
        self.0.get(domain).cloned()
    }
}

/// The DS: its engine context and the key it signs proposals with.
pub struct Ds {
    pub ctx: EngineContext,
    pub signer: SignatureKeyPair,
}

impl Ds {
    pub fn new() -> Self {
        let signer = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        let ctx = EngineContext::new(Domain::new(DOMAIN).unwrap(), signer.public().to_vec())
            .with_voucher_keys(Arc::new(KnownKeys::of_known_domains()));
        Self { ctx, signer }
    }

    pub fn external_senders(&self) -> Extension {
        Extension::ExternalSenders(vec![self.ctx.ds_external_sender()])
    }
}

/// A full openmls member with its own provider and keys.
pub struct Client {
    pub id: ClientId,
    pub provider: OpenMlsRustCrypto,
    pub signer: SignatureKeyPair,
    pub credential: CredentialWithKey,
    pub group: Option<MlsGroup>,
    /// The home DS's voucher the client puts into its leaves: present for a
    /// client of one of [`KNOWN_DOMAINS`], absent for clients of [`DOMAIN`].
    pub voucher: Option<ClientVoucher>,
}

impl Client {
    pub fn new(id: &str) -> Self {
        Self::with_signer(id, SignatureKeyPair::new(CS.signature_algorithm()).unwrap())
    }

    /// A client that keeps an existing signature key (e.g. after losing its group state).
    pub fn with_signer(id: &str, signer: SignatureKeyPair) -> Self {
        let id = ClientId::new(id).unwrap();
        let provider = OpenMlsRustCrypto::default();
        signer.store(provider.storage()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(id.as_str().as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        let voucher = KNOWN_DOMAINS.contains(&id.domain()).then(|| {
            voucher_by(
                id.domain(),
                home_ds_key(id.domain()),
                &id,
                signer.public(),
                NOW + VOUCHER_TTL,
            )
        });
        Self {
            id,
            provider,
            signer,
            credential,
            group: None,
            voucher,
        }
    }

    /// The same client with `voucher` in its future leaves instead.
    pub fn with_voucher(mut self, voucher: Option<ClientVoucher>) -> Self {
        self.voucher = voucher;
        self
    }

    /// The leaf extensions of this client's leaves (its voucher, if any).
    pub fn leaf_extensions(&self) -> Extensions<LeafNode> {
        match &self.voucher {
            Some(v) => Extensions::single(voucher_extension(v)).unwrap(),
            None => Extensions::empty(),
        }
    }

    pub fn group(&self) -> &MlsGroup {
        self.group.as_ref().unwrap()
    }

    pub fn group_mut(&mut self) -> &mut MlsGroup {
        self.group.as_mut().unwrap()
    }

    pub fn key_package(&self) -> KeyPackage {
        self.key_package_with(Extensions::empty())
    }

    pub fn key_package_with(&self, extensions: Extensions<KeyPackage>) -> KeyPackage {
        let mut builder = KeyPackage::builder();
        let leaf_extensions = self.leaf_extensions();
        let types: Vec<ExtensionType> = extensions
            .iter()
            .chain(leaf_extensions.iter())
            .map(|e| e.extension_type())
            .collect();
        if !types.is_empty() {
            builder = builder
                .key_package_extensions(extensions)
                .leaf_node_extensions(leaf_extensions)
                .leaf_node_capabilities(Capabilities::new(None, None, Some(&types), None, None));
        }
        builder
            .build(CS, &self.provider, &self.signer, self.credential.clone())
            .unwrap()
            .key_package()
            .clone()
    }

    pub fn join_config() -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .build()
    }

    /// Creates the group locally and returns the CreateGroupRequest.
    pub fn create_group(&mut self, ds: &Ds, local: &str, kind: GroupKind) -> CreateGroupRequest {
        let extensions = Extensions::single(ds.external_senders()).unwrap();
        let mut request = self.create_group_with(&format!("{local}@{DOMAIN}"), extensions);
        request.group_kind = kind;
        request
    }

    /// Creates group `group_id` locally with these group context extensions
    /// and returns the (regular) CreateGroupRequest.
    pub fn create_group_with(
        &mut self,
        group_id: &str,
        extensions: Extensions<GroupContext>,
    ) -> CreateGroupRequest {
        let group_id = GroupId::new(group_id).unwrap();
        let group = MlsGroup::builder()
            .with_group_id(openmls::group::GroupId::from_slice(group_id.as_bytes()))
            .ciphersuite(CS)
            .with_wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .with_group_context_extensions(extensions)
            .build(&self.provider, &self.signer, self.credential.clone())
            .unwrap();
        let leaf = group
            .own_leaf_node()
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        let group_info = group
            .export_group_info(self.provider.crypto(), &self.signer, false)
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        self.group = Some(group);
        CreateGroupRequest {
            group_id,
            group_kind: GroupKind::Regular,
            leaf_node: Bytes::new(leaf).unwrap(),
            group_info: Bytes::new(group_info).unwrap(),
        }
    }

    pub fn leaf_index(&self) -> u32 {
        self.group().own_leaf_index().u32()
    }

    /// Signs `body` as this member (ClientSignature at its own leaf).
    pub fn signed(&self, body: DsRequestBody) -> DsRequest {
        self.signed_at(body, self.leaf_index())
    }

    pub fn signed_at(&self, body: DsRequestBody, sender_index: u32) -> DsRequest {
        let mut request = DsRequest {
            version: ProtocolVersion::V1,
            body,
            auth: DsAuthData::Anonymous,
        };
        let content = client_signature_content(&request, sender_index).unwrap();
        let signature = self.signer.sign(&content).unwrap();
        request.auth = DsAuthData::ClientSignature(ClientSignature {
            sender_index,
            signature: ShortBytes::new(signature).unwrap(),
        });
        request
    }

    /// Stages a commit through `f` and packs it as an MLSGroupUpdate (+ Welcome).
    pub fn commit_with(
        &mut self,
        f: impl for<'a> FnOnce(CommitBuilder<'a, Initial>) -> CommitBuilder<'a, Initial>,
    ) -> (MlsGroupUpdate, Option<Vec<u8>>) {
        let provider = &self.provider;
        let signer = &self.signer;
        let group = self.group.as_mut().unwrap();
        let bundle = f(group.commit_builder())
            .load_psks(provider.storage())
            .unwrap()
            .create_group_info(true)
            .build(provider.rand(), provider.crypto(), signer, |_| true)
            .unwrap()
            .stage_commit(provider)
            .unwrap();
        pack_bundle(bundle)
    }

    pub fn merge(&mut self) {
        let provider = &self.provider;
        self.group
            .as_mut()
            .unwrap()
            .merge_pending_commit(provider)
            .unwrap();
    }

    pub fn discard(&mut self) {
        let provider = &self.provider;
        self.group
            .as_mut()
            .unwrap()
            .clear_pending_commit(provider.storage())
            .unwrap();
    }

    /// Processes a message fanned out by the DS; merges commits, stores proposals.
    pub fn receive(&mut self, bytes: &[u8]) -> Received {
        let provider = &self.provider;
        let group = self.group.as_mut().unwrap();
        let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes).unwrap();
        let processed = group
            .process_message(provider, message.try_into_protocol_message().unwrap())
            .unwrap();
        match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let removed_self = staged.self_removed();
                group.merge_staged_commit(provider, *staged).unwrap();
                if removed_self {
                    self.group = None;
                }
                Received::Commit
            }
            ProcessedMessageContent::ProposalMessage(p) => {
                group
                    .store_pending_proposal(provider.storage(), *p)
                    .unwrap();
                Received::Proposal
            }
            ProcessedMessageContent::ApplicationMessage(m) => Received::Application(m.into_bytes()),
            _ => Received::Other,
        }
    }

    /// Joins from a Welcome: opens it, asks the DS (through `fetch`) for the
    /// tree of the Welcome's epoch with a JoinerSignature request, and joins.
    pub fn join(
        &mut self,
        welcome: &[u8],
        group_id: &GroupId,
        fetch: impl FnOnce(&DsRequest) -> Result<Outcome, DsError>,
    ) -> Result<(), DsError> {
        let welcome = match MlsMessageIn::tls_deserialize_exact_bytes(welcome)
            .unwrap()
            .extract()
        {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => panic!("not a welcome"),
        };
        let my_ref = welcome
            .secrets()
            .iter()
            .map(|s| s.new_member())
            .find(|r| {
                use openmls_traits::storage::StorageProvider as _;
                self.provider
                    .storage()
                    .key_package::<_, KeyPackageBundle>(r)
                    .ok()
                    .flatten()
                    .is_some()
            })
            .expect("welcome not for us");
        let processed = ProcessedWelcome::new_from_welcome(
            &self.provider,
            &Self::join_config(),
            welcome.clone(),
        )
        .unwrap();
        let epoch = processed.unverified_group_info().epoch().as_u64();

        let request = self.joiner_signed(
            DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
                group_id: group_id.clone(),
                epoch,
            }),
            my_ref.as_slice(),
        );
        let info = match fetch(&request)?.response {
            DsResponseBody::WelcomeInfo(info) => info,
            other => panic!("unexpected {other:?}"),
        };
        let tree =
            RatchetTreeIn::tls_deserialize_exact_bytes(info.ratchet_tree.as_slice()).unwrap();
        let group = processed
            .into_staged_welcome(&self.provider, Some(tree))
            .unwrap()
            .into_group(&self.provider)
            .unwrap();
        self.group = Some(group);
        Ok(())
    }

    /// Signs `body` as a joiner identified by its key package reference.
    pub fn joiner_signed(&self, body: DsRequestBody, key_package_ref: &[u8]) -> DsRequest {
        let mut request = anonymous(body);
        let kp_ref = ShortBytes::new(key_package_ref.to_vec()).unwrap();
        let content = ds_core::group::joiner_signature_content(&request, &kp_ref).unwrap();
        request.auth = DsAuthData::JoinerSignature(JoinerSignature {
            key_package_ref: kp_ref,
            signature: ShortBytes::new(self.signer.sign(&content).unwrap()).unwrap(),
        });
        request
    }

    /// Builds an external commit from the DS's ExternalCommitInfo.
    pub fn external_join(&mut self, info: &ExternalCommitInfo) -> MlsGroupUpdate {
        let group_info = match MlsMessageIn::tls_deserialize_exact_bytes(info.group_info.as_slice())
            .unwrap()
            .extract()
        {
            MlsMessageBodyIn::GroupInfo(gi) => gi,
            _ => panic!("not a group info"),
        };
        let tree =
            RatchetTreeIn::tls_deserialize_exact_bytes(info.ratchet_tree.as_slice()).unwrap();
        let proposals = info
            .proposals
            .as_slice()
            .iter()
            .filter_map(|p| {
                match MlsMessageIn::tls_deserialize_exact_bytes(p.as_slice())
                    .ok()?
                    .extract()
                {
                    MlsMessageBodyIn::PublicMessage(pm) => Some(pm),
                    _ => None,
                }
            })
            .collect();
        let leaf_extensions = self.leaf_extensions();
        let types: Vec<ExtensionType> =
            leaf_extensions.iter().map(|e| e.extension_type()).collect();
        let mut builder = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_proposals(proposals)
            .with_config(Self::join_config())
            .build_group(&self.provider, group_info, self.credential.clone())
            .unwrap();
        if !types.is_empty() {
            builder = builder.leaf_node_parameters(
                LeafNodeParameters::builder()
                    .with_capabilities(Capabilities::new(None, None, Some(&types), None, None))
                    .with_extensions(leaf_extensions)
                    .build(),
            );
        }
        let (group, bundle) = builder
            .load_psks(self.provider.storage())
            .unwrap()
            .create_group_info(true)
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .unwrap()
            .finalize(&self.provider)
            .unwrap();
        self.group = Some(group);
        pack_bundle(bundle).0
    }

    pub fn message(&mut self, text: &[u8]) -> Vec<u8> {
        let provider = &self.provider;
        let signer = &self.signer;
        self.group
            .as_mut()
            .unwrap()
            .create_message(provider, signer, text)
            .unwrap()
            .tls_serialize_detached()
            .unwrap()
    }
}

/// `voucher` as the leaf extension that carries it.
pub fn voucher_extension(voucher: &ClientVoucher) -> Extension {
    Extension::Unknown(
        VOUCHER_EXTENSION_TYPE,
        UnknownExtension(voucher.tls_serialize_detached().unwrap()),
    )
}

/// The raw bytes of an openmls Signature (its encoding minus the length prefix).
pub fn signature_bytes(signature: &Signature) -> Vec<u8> {
    use tls_codec::Deserialize as _;
    let encoded = signature.tls_serialize_detached().unwrap();
    tls_codec::VLBytes::tls_deserialize_exact(&encoded)
        .unwrap()
        .as_slice()
        .to_vec()
}

/// What a member made of a fanned-out message.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Commit,
    Proposal,
    Application(Vec<u8>),
    Other,
}

/// A CommitBundle as the MLSGroupUpdate the DS wants, plus the Welcome bytes.
pub fn pack_bundle(bundle: CommitMessageBundle) -> (MlsGroupUpdate, Option<Vec<u8>>) {
    let (commit, welcome, group_info) = bundle.into_contents();
    let group_info = group_info.expect("commit bundle without group info");
    let partial = PartialGroupInfo {
        group_info_extensions: Bytes::new(
            group_info.extensions().tls_serialize_detached().unwrap(),
        )
        .unwrap(),
        signature: Bytes::new(signature_bytes(group_info.signature())).unwrap(),
    };
    let welcome = welcome.map(|w| {
        MlsMessageOut::from_welcome(w, MlsVersion::default())
            .tls_serialize_detached()
            .unwrap()
    });
    (
        MlsGroupUpdate {
            commit: Bytes::new(commit.tls_serialize_detached().unwrap()).unwrap(),
            partial_group_info: partial,
        },
        welcome,
    )
}

pub fn add_request(update: MlsGroupUpdate, welcomes: Vec<Vec<u8>>) -> AddRequest {
    AddRequest {
        group_update: update,
        welcomes: List::new(
            welcomes
                .into_iter()
                .map(|w| Bytes::new(w).unwrap())
                .collect(),
        )
        .unwrap(),
    }
}

pub fn update_request(update: MlsGroupUpdate) -> GroupUpdateRequest {
    GroupUpdateRequest {
        group_update: update,
    }
}

pub fn anonymous(body: DsRequestBody) -> DsRequest {
    DsRequest {
        version: ProtocolVersion::V1,
        body,
        auth: DsAuthData::Anonymous,
    }
}

/// A request with `RegisteredClient` auth by `client`, signed with a fresh
/// key at `NOW` (the engine leaves checking it to the caller, who passes the
/// verified client as requester).
pub fn registered(body: DsRequestBody, client: &str) -> DsRequest {
    let keys = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    ds_core::queue::sign_registered_request(
        body,
        ClientId::new(client).unwrap(),
        NOW,
        vec![7; 16],
        &keys,
    )
    .unwrap()
}

/// The MLS messages a successful outcome fans out to the group log.
pub fn group_messages(outcome: &Outcome) -> Vec<Vec<u8>> {
    outcome
        .effects
        .iter()
        .filter_map(|e| match e {
            ds_core::group::Effect::GroupMessage { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// A group on the DS with its members as real clients.
pub struct World {
    pub ds: Ds,
    pub group: DsGroup,
    pub clients: Vec<Client>,
}

impl World {
    /// `creator` creates group `local`; nobody else yet.
    pub fn new(creator: &str) -> Self {
        let ds = Ds::new();
        let mut c = Client::new(creator);
        let request = c.create_group(&ds, "g1", GroupKind::Regular);
        let (group, _) = DsGroup::create(&ds.ctx, &request, NOW).unwrap();
        Self {
            ds,
            group,
            clients: vec![c],
        }
    }

    pub fn idx(&self, id: &str) -> usize {
        self.clients
            .iter()
            .position(|c| c.id.as_str() == id)
            .unwrap_or_else(|| panic!("no client {id}"))
    }

    pub fn process(&mut self, request: &DsRequest) -> Result<Outcome, DsError> {
        let ds = &self.ds;
        self.group.process(&ds.ctx, request, None, NOW)
    }

    /// Delivers the outcome's group messages to every member but `except`.
    pub fn fan_out(&mut self, outcome: &Outcome, except: usize) {
        for message in group_messages(outcome) {
            for (i, c) in self.clients.iter_mut().enumerate() {
                if i != except && c.group.is_some() {
                    c.receive(&message);
                }
            }
        }
    }

    /// `by` adds new clients `ids` with operation AddUsers or AddClients; they join.
    pub fn add(&mut self, by: &str, ids: &[&str], add_clients: bool) -> Outcome {
        let new: Vec<Client> = ids.iter().map(|id| Client::new(id)).collect();
        let kps: Vec<KeyPackage> = new.iter().map(|c| c.key_package()).collect();
        let b = self.idx(by);
        let (update, welcome) = self.clients[b].commit_with(|cb| cb.propose_adds(kps));
        let welcome = welcome.unwrap();
        let req = add_request(update, vec![welcome.clone()]);
        let body = if add_clients {
            DsRequestBody::AddClients(req)
        } else {
            DsRequestBody::AddUsers(req)
        };
        let request = self.clients[b].signed(body);
        let outcome = self.process(&request).unwrap();
        self.clients[b].merge();
        self.fan_out(&outcome, b);
        let gid = self.group.group_id().clone();
        for mut c in new {
            let ds = &self.ds;
            let group = &mut self.group;
            c.join(&welcome, &gid, |r| group.process(&ds.ctx, r, None, NOW))
                .unwrap();
            self.clients.push(c);
        }
        outcome
    }

    /// Asserts every member agrees with the DS on epoch, tree hash and roster.
    pub fn assert_converged(&self) {
        let mut ds_roster: Vec<String> = self
            .group
            .roster()
            .clients()
            .map(|c| c.as_str().to_owned())
            .collect();
        ds_roster.sort();
        for c in self.clients.iter().filter(|c| c.group.is_some()) {
            let g = c.group();
            assert_eq!(g.epoch().as_u64(), self.group.epoch(), "epoch of {}", c.id);
            assert_eq!(
                g.public_group().group_context().tree_hash(),
                self.group.tree_hash(),
                "tree hash of {}",
                c.id
            );
            let mut roster: Vec<String> = g
                .members()
                .map(|m| {
                    String::from_utf8(
                        BasicCredential::try_from(m.credential)
                            .unwrap()
                            .identity()
                            .to_vec(),
                    )
                    .unwrap()
                })
                .collect();
            roster.sort();
            assert_eq!(roster, ds_roster, "roster of {}", c.id);
        }
    }
}
