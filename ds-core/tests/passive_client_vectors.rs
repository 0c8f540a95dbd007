//! Conformance: the MLS working group's passive-client test vectors
//! (`/work/shared/vectors/mls-passive-client/`, format "Passive Client
//! Scenarios" of mls-implementations' `test-vectors.md`) replayed through the
//! engine's passive-member layer, `ds_core::group::PassiveGroup` (the layer
//! `DsGroup` validates and merges every handshake message with).
//!
//! For every vector whose ciphersuite the crypto provider supports:
//!
//! 1. A full openmls member joins by the vector's Welcome: its KeyPackage
//!    bundle and external PSKs are written into its provider's storage through
//!    the public `StorageProvider` API, as openmls's own passive-client KAT
//!    does. Its epoch authenticator must equal `initial_epoch_authenticator`.
//! 2. The DS's view is seeded with `PassiveGroup::from_external` (as
//!    `DsGroup::create` does) from the member's GroupInfo, signed with the
//!    vector's `signature_priv`, and the ratchet tree (the vector's, else the
//!    member's). See "Expired lifetimes" below for the one exception.
//! 3. Every proposal of an epoch goes to both (member: `process_message` +
//!    `store_pending_proposal`; DS: `PassiveGroup::apply_handshake`), then
//!    the commit (member: `merge_staged_commit`; DS: `apply_handshake`). After
//!    each epoch the DS's epoch, tree hash, group context, confirmation tag and
//!    roster must equal the member's, and the member's epoch authenticator the
//!    vector's. The DS's group is also saved and restored after seeding and
//!    after each epoch (`to_bytes` / `from_bytes`, as the server restores
//!    state between requests); the restored group must be unchanged and is
//!    the one used for the next epoch.
//!
//! Every proposal and commit must be a PublicMessage (the README says so, and
//! the DS accepts nothing else). Vectors of ciphersuites the provider does not
//! support are skipped and counted. Mismatches are collected and reported
//! together at the end.
//!
//! # Expired lifetimes
//!
//! The vectors were generated in 2024/2025 and their KeyPackages carry
//! lifetimes that have since run out. openmls enforces KeyPackage lifetimes
//! (RFC 9420 §7.3, openmls's valn0106) in `KeyPackageIn::validate`, when
//! joining, and in `PublicGroup::from_external` for ratchet-tree leaves that
//! still have their KeyPackage source. openmls's own KAT turns that check off
//! with a test-only switch. Through the public API:
//!
//! - the joiner's KeyPackage: if `validate` fails with exactly
//!   `LifetimeError::Expired` (the last check it makes, so signatures etc.
//!   passed), the parsed KeyPackage is used anyway;
//! - the join uses `JoinBuilder::skip_lifetime_validation` (public API);
//! - `PublicGroup::from_external` (and so `PassiveGroup::from_external`) has
//!   no such switch. If it fails with an expired-lifetime leaf error, and the
//!   tree does hold such leaves, the GroupInfo's signature and group context
//!   are checked on their own and the DS's group is seeded with
//!   `PassiveGroup::import` from the member's stored public state (tree,
//!   context, transcript hash, confirmation tag). Such seeds are counted and
//!   printed; every message after the seed goes through the engine.
//!
//! Every other error fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;
use std::time::Instant;

use ds_core::group::{Handshake, PassiveGroup};
use ds_core::wire::DsErrorCode;
use openmls::messages::group_info::{GroupInfo, VerifiableGroupInfo};
use openmls::prelude::{
    Ciphersuite, KeyPackage, KeyPackageBundle, KeyPackageVerifyError,
    MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, Member, MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn,
    MlsMessageIn, OpenMlsSignaturePublicKey, ProcessedMessageContent, ProtocolVersion, PublicGroup,
    PublicMessageIn, RatchetTreeIn, StagedWelcome, Verifiable,
};
use openmls::schedule::psk::PreSharedKeyId;
use openmls::treesync::LeafNodeSource;
use openmls::treesync::errors::LifetimeError;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::{OpenMlsRustCrypto, RustCrypto};
use openmls_traits::OpenMlsProvider;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::storage::StorageProvider;
use openmls_traits::types::HpkePrivateKey;
use serde::{Deserialize, Serialize};
use tls_codec::{Deserialize as _, Serialize as _};

/// The memory storage of `OpenMlsRustCrypto` (its crate is not a dependency).
type MemoryStorage = <OpenMlsRustCrypto as OpenMlsProvider>::StorageProvider;

const VECTOR_DIR: &str = "/work/shared/vectors/mls-passive-client";
const FILES: &[&str] = &[
    "passive-client-welcome.json",
    "passive-client-handling-commit.json",
];

// ---------------------------------------------------------------------------
// Vector format
// ---------------------------------------------------------------------------

/// Hex-encoded bytes.
#[derive(Debug, Clone)]
struct Hex(Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(&s).map(Hex).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassiveClientVector {
    cipher_suite: u16,
    #[serde(default)]
    external_psks: Vec<ExternalPsk>,
    key_package: Hex,
    signature_priv: Hex,
    encryption_priv: Hex,
    init_priv: Hex,
    welcome: Hex,
    #[serde(default)]
    ratchet_tree: Option<Hex>,
    initial_epoch_authenticator: Hex,
    epochs: Vec<Epoch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalPsk {
    psk_id: Hex,
    psk: Hex,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Epoch {
    proposals: Vec<Hex>,
    commit: Hex,
    epoch_authenticator: Hex,
}

// ---------------------------------------------------------------------------
// Storage through the public traits
// ---------------------------------------------------------------------------

/// The serde shape of openmls's `KeyPackageBundle` (whose fields are private):
/// we build this and deserialize it as a real `KeyPackageBundle`, so a change
/// of the shape fails loudly instead of storing something unreadable.
#[derive(Serialize)]
struct KeyPackageBundleShape<'a> {
    key_package: &'a KeyPackage,
    private_init_key: HpkePrivateKey,
    private_encryption_key: EncryptionPrivateKeyShape,
}

/// The serde shape of openmls's (crate-private) `EncryptionPrivateKey`.
#[derive(Serialize)]
struct EncryptionPrivateKeyShape {
    key: HpkePrivateKey,
}

// ---------------------------------------------------------------------------
// Bookkeeping
// ---------------------------------------------------------------------------

/// What one vector (or all of a file's) exercised.
#[derive(Debug, Default)]
struct Stats {
    epochs: usize,
    proposals: usize,
    /// Joiner KeyPackages used although their lifetime has run out.
    expired_key_packages: usize,
    /// Seeds by `PublicGroup::from_external`.
    seeded_from_external: usize,
    /// Seeds by copying the member's state (from_external refused an expired
    /// KeyPackage lifetime in the tree).
    seeded_by_copy: usize,
}

impl Stats {
    fn add(&mut self, o: &Stats) {
        self.epochs += o.epochs;
        self.proposals += o.proposals;
        self.expired_key_packages += o.expired_key_packages;
        self.seeded_from_external += o.seeded_from_external;
        self.seeded_by_copy += o.seeded_by_copy;
    }
}

/// Where a vector went wrong.
struct Report<'a> {
    file: &'a str,
    index: usize,
    mismatches: &'a mut Vec<String>,
}

impl Report<'_> {
    fn push(&mut self, at: &str, what: String) {
        self.mismatches
            .push(format!("{} #{} {at}: {what}", self.file, self.index));
    }

    /// Records a mismatch unless `left == right`; returns whether they were equal.
    fn check_eq<T: PartialEq + Debug>(&mut self, at: &str, what: &str, left: T, right: T) -> bool {
        if left == right {
            return true;
        }
        self.push(at, format!("{what}: {left:?} != {right:?}"));
        false
    }
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

fn parse_message(bytes: &[u8]) -> Result<MlsMessageIn, String> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| format!("not an MLSMessage: {e}"))
}

/// The PublicMessage inside an MLSMessage; the README promises every proposal
/// and commit is one (and the DS only accepts those).
fn public_message(bytes: &[u8]) -> Result<PublicMessageIn, String> {
    match parse_message(bytes)?.extract() {
        MlsMessageBodyIn::PublicMessage(m) => Ok(m),
        MlsMessageBodyIn::PrivateMessage(_) => Err("a PrivateMessage, not a PublicMessage".into()),
        _ => Err("not a PublicMessage".into()),
    }
}

/// Writes the joiner's KeyPackageBundle (init and leaf encryption private keys)
/// into `provider`'s storage; returns the signature public key of its leaf.
fn inject_key_package(
    provider: &OpenMlsRustCrypto,
    v: &PassiveClientVector,
    stats: &mut Stats,
) -> Result<Vec<u8>, String> {
    let MlsMessageBodyIn::KeyPackage(key_package_in) = parse_message(&v.key_package.0)?.extract()
    else {
        return Err("key_package is not a KeyPackage MLSMessage".into());
    };
    let key_package = match key_package_in
        .clone()
        .validate(provider.crypto(), ProtocolVersion::Mls10)
    {
        Ok(kp) => kp,
        // The lifetime is the last thing `validate` checks: signatures,
        // version, keys and extensions have passed.
        Err(KeyPackageVerifyError::LifetimeError(LifetimeError::Expired { .. })) => {
            stats.expired_key_packages += 1;
            serde_json::to_value(&key_package_in)
                .and_then(serde_json::from_value)
                .map_err(|e| format!("KeyPackageIn -> KeyPackage: {e}"))?
        }
        Err(e) => return Err(format!("key_package does not validate: {e}")),
    };
    let shape = KeyPackageBundleShape {
        key_package: &key_package,
        private_init_key: HpkePrivateKey::from(v.init_priv.0.clone()),
        private_encryption_key: EncryptionPrivateKeyShape {
            key: HpkePrivateKey::from(v.encryption_priv.0.clone()),
        },
    };
    let bundle: KeyPackageBundle = serde_json::to_value(&shape)
        .and_then(serde_json::from_value)
        .map_err(|e| format!("KeyPackageBundle shape: {e}"))?;
    let hash_ref = key_package
        .hash_ref(provider.crypto())
        .map_err(|e| e.to_string())?;
    provider
        .storage()
        .write_key_package(&hash_ref, &bundle)
        .map_err(|e| format!("write_key_package: {e}"))?;
    Ok(key_package.leaf_node().signature_key().as_slice().to_vec())
}

fn member_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .number_of_resumption_psks(16)
        .build()
}

/// Every member: index, credential, encryption key, signature key.
fn roster(members: impl Iterator<Item = Member>) -> Vec<Member> {
    members.collect()
}

/// Compares the DS's public view with the member's; `true` if all agree.
fn compare(report: &mut Report<'_>, at: &str, member: &MlsGroup, public: &PublicGroup) -> bool {
    let m = member.public_group();
    let mut ok = report.check_eq(
        at,
        "epoch (member vs DS)",
        member.epoch().as_u64(),
        public.group_context().epoch().as_u64(),
    );
    ok &= report.check_eq(
        at,
        "tree hash (member vs DS)",
        hex::encode(m.group_context().tree_hash()),
        hex::encode(public.group_context().tree_hash()),
    );
    ok &= report.check_eq(
        at,
        "group context (member vs DS)",
        m.group_context(),
        public.group_context(),
    );
    ok &= report.check_eq(
        at,
        "confirmation tag (member vs DS)",
        m.confirmation_tag(),
        public.confirmation_tag(),
    );
    ok &= report.check_eq(
        at,
        "roster (member vs DS)",
        roster(member.members()),
        roster(public.members()),
    );
    ok
}

/// Saves and restores the DS's group (as the server does between requests)
/// and checks nothing was lost.
fn reload(report: &mut Report<'_>, at: &str, ds: &PassiveGroup) -> Option<PassiveGroup> {
    let loaded = match ds.to_bytes().and_then(|b| PassiveGroup::from_bytes(&b)) {
        Ok(g) => g,
        Err(e) => {
            report.push(at, format!("DS group does not save and restore: {e}"));
            return None;
        }
    };
    let (public, restored) = (ds.public(), loaded.public());
    let mut ok = report.check_eq(
        at,
        "group context (DS vs reloaded)",
        public.group_context(),
        restored.group_context(),
    );
    ok &= report.check_eq(
        at,
        "confirmation tag (DS vs reloaded)",
        public.confirmation_tag(),
        restored.confirmation_tag(),
    );
    ok &= report.check_eq(
        at,
        "roster (DS vs reloaded)",
        roster(public.members()),
        roster(restored.members()),
    );
    ok.then_some(loaded)
}

/// Leaves of the member's tree still carrying a KeyPackage lifetime that has
/// run out.
fn expired_leaves(member: &MlsGroup) -> usize {
    member
        .public_group()
        .treesync()
        .full_leaves()
        .filter(|(_, leaf)| match leaf.leaf_node_source() {
            LeafNodeSource::KeyPackage(lifetime) => {
                matches!(lifetime.validate(), Err(LifetimeError::Expired { .. }))
            }
            _ => false,
        })
        .count()
}

/// The fallback seed (see the module docs): checks the GroupInfo on its own,
/// then copies the member's stored public state into the DS's storage.
fn seed_by_copy(
    crypto: &impl OpenMlsCrypto,
    member: &MlsGroup,
    member_storage: &MemoryStorage,
    group_info: VerifiableGroupInfo,
    signature_public: &[u8],
) -> Result<PassiveGroup, String> {
    let key = OpenMlsSignaturePublicKey::new(
        signature_public.to_vec().into(),
        member.ciphersuite().signature_algorithm(),
    )
    .map_err(|e| format!("signature key: {e:?}"))?;
    let own_key = member
        .own_leaf_node()
        .map(|leaf| leaf.signature_key().as_slice());
    if own_key != Some(signature_public) {
        return Err("the member's leaf does not have the KeyPackage's signature key".into());
    }
    let group_info: GroupInfo = group_info
        .verify(crypto, &key)
        .map_err(|e| format!("GroupInfo signature: {e:?}"))?;
    if group_info.group_context() != member.public_group().group_context() {
        return Err("GroupInfo's group context is not the member's".into());
    }
    PassiveGroup::import(member_storage, member.group_id())
        .map_err(|e| format!("PassiveGroup::import: {e}"))
}

/// Runs one vector, stopping at the first error that makes the member and the
/// DS diverge (all recorded in `report`).
fn run_vector(report: &mut Report<'_>, v: &PassiveClientVector, cs: Ciphersuite) -> Stats {
    let mut stats = Stats::default();
    macro_rules! fatal {
        ($at:expr, $res:expr) => {
            match $res {
                Ok(x) => x,
                Err(e) => {
                    report.push($at, e.to_string());
                    return stats;
                }
            }
        };
    }

    // 1. The full member joins by the Welcome.
    let provider = OpenMlsRustCrypto::default();
    for psk in &v.external_psks {
        fatal!(
            "join",
            PreSharedKeyId::external(psk.psk_id.0.clone(), Vec::new())
                .store(&provider, &psk.psk.0)
                .map_err(|e| format!("storing an external PSK: {e:?}"))
        );
    }
    let signature_public = fatal!("join", inject_key_package(&provider, v, &mut stats));
    let welcome = fatal!(
        "join",
        parse_message(&v.welcome.0).and_then(|m| match m.extract() {
            MlsMessageBodyIn::Welcome(w) => Ok(w),
            _ => Err("welcome is not a Welcome MLSMessage".to_string()),
        })
    );
    let tree_in = match &v.ratchet_tree {
        Some(t) => Some(fatal!(
            "join",
            RatchetTreeIn::tls_deserialize_exact(t.0.as_slice())
                .map_err(|e| format!("ratchet_tree does not parse: {e}"))
        )),
        None => None,
    };
    let staged = fatal!(
        "join",
        StagedWelcome::build_from_welcome(&provider, &member_config(), welcome)
            .and_then(|builder| {
                let builder = builder.skip_lifetime_validation();
                match tree_in.clone() {
                    Some(tree) => builder.with_ratchet_tree(tree),
                    None => builder,
                }
                .build()
            })
            .map_err(|e| format!("Welcome does not stage: {e:?}"))
    );
    let mut member = fatal!(
        "join",
        staged
            .into_group(&provider)
            .map_err(|e| format!("StagedWelcome::into_group: {e:?}"))
    );
    report.check_eq(
        "join",
        "initial epoch authenticator (member vs vector)",
        hex::encode(member.epoch_authenticator().as_slice()),
        hex::encode(&v.initial_epoch_authenticator.0),
    );

    // 2. The DS's view, seeded from the member's GroupInfo and the tree.
    let signer = SignatureKeyPair::from_raw(
        cs.signature_algorithm(),
        v.signature_priv.0.clone(),
        signature_public.clone(),
    );
    let group_info = fatal!(
        "seed",
        member
            .export_group_info(provider.crypto(), &signer, false)
            .map_err(|e| format!("export_group_info: {e:?}"))
            .and_then(|m| m.tls_serialize_detached().map_err(|e| e.to_string()))
            .and_then(|b| parse_message(&b))
            .and_then(|m| match m.extract() {
                MlsMessageBodyIn::GroupInfo(gi) => Ok(gi),
                _ => Err("export_group_info did not give a GroupInfo".to_string()),
            })
    );
    let ds_tree = tree_in.unwrap_or_else(|| member.export_ratchet_tree().into());
    let crypto = RustCrypto::default();
    let ds = match PassiveGroup::from_external(&crypto, ds_tree, group_info.clone()) {
        Ok((ds, _)) => {
            stats.seeded_from_external += 1;
            ds
        }
        Err(e)
            if e.code == DsErrorCode::InvalidLeafNode
                && e.detail().contains("Lifetime is in the past")
                && expired_leaves(&member) > 0 =>
        {
            stats.seeded_by_copy += 1;
            fatal!(
                "seed",
                seed_by_copy(
                    &crypto,
                    &member,
                    provider.storage(),
                    group_info,
                    &signature_public,
                )
            )
        }
        Err(e) => fatal!("seed", Err(format!("PassiveGroup::from_external: {e}"))),
    };
    if !compare(report, "seed", &member, ds.public()) {
        return stats;
    }
    let Some(mut ds) = reload(report, "seed", &ds) else {
        return stats;
    };

    // 3. Replay every epoch through both.
    for (e, epoch) in v.epochs.iter().enumerate() {
        for (p, proposal) in epoch.proposals.iter().enumerate() {
            let at = format!("epoch {e} proposal {p}");
            let for_member = fatal!(&at, public_message(&proposal.0));
            let processed = fatal!(
                &at,
                member
                    .process_message(&provider, for_member)
                    .map_err(|e| format!("member rejects the proposal: {e:?}"))
            );
            let ProcessedMessageContent::ProposalMessage(queued) = processed.into_content() else {
                report.push(&at, "member: not a proposal".into());
                return stats;
            };
            fatal!(
                &at,
                member
                    .store_pending_proposal(provider.storage(), *queued)
                    .map_err(|e| format!("member store_pending_proposal: {e:?}"))
            );
            match ds.apply_handshake(&crypto, &proposal.0) {
                Ok(Handshake::Proposal) => {}
                other => {
                    report.push(&at, format!("DS: {other:?}"));
                    return stats;
                }
            }
            stats.proposals += 1;
        }

        let at = format!("epoch {e} commit");
        let for_member = fatal!(&at, public_message(&epoch.commit.0));
        let processed = fatal!(
            &at,
            member
                .process_message(&provider, for_member)
                .map_err(|e| format!("member rejects the commit: {e:?}"))
        );
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            report.push(&at, "member: not a commit".into());
            return stats;
        };
        fatal!(
            &at,
            member
                .merge_staged_commit(&provider, *staged)
                .map_err(|e| format!("member merge_staged_commit: {e:?}"))
        );
        match ds.apply_handshake(&crypto, &epoch.commit.0) {
            Ok(Handshake::Commit) => {}
            other => {
                report.push(&at, format!("DS: {other:?}"));
                return stats;
            }
        }

        report.check_eq(
            &at,
            "epoch authenticator (member vs vector)",
            hex::encode(member.epoch_authenticator().as_slice()),
            hex::encode(&epoch.epoch_authenticator.0),
        );
        if !compare(report, &at, &member, ds.public()) {
            return stats;
        }
        ds = match reload(report, &at, &ds) {
            Some(g) => g,
            None => return stats,
        };
        stats.epochs += 1;
    }
    stats
}

#[test]
fn passive_client_vectors() {
    let started = Instant::now();
    let supported = OpenMlsRustCrypto::default();
    let mut mismatches = Vec::new();
    let (mut vectors_total, mut checked_total, mut skipped_total) = (0, 0, 0);
    let mut totals = Stats::default();
    for file in FILES {
        let path = Path::new(VECTOR_DIR).join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let vectors: Vec<PassiveClientVector> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        let file_started = Instant::now();
        let (mut checked, mut skipped) = (0, 0);
        let mut skipped_suites = BTreeSet::new();
        let mut public_messages = 0;
        let mut stats = Stats::default();
        for (index, v) in vectors.iter().enumerate() {
            let mut report = Report {
                file,
                index,
                mismatches: &mut mismatches,
            };
            let Ok(cs) = Ciphersuite::try_from(v.cipher_suite) else {
                report.push("parse", format!("unknown ciphersuite {}", v.cipher_suite));
                continue;
            };
            // Every proposal and commit must be a PublicMessage, in skipped
            // vectors too (parsing needs no crypto).
            for (e, epoch) in v.epochs.iter().enumerate() {
                let messages = epoch.proposals.iter().chain([&epoch.commit]);
                for (m, message) in messages.enumerate() {
                    match public_message(&message.0) {
                        Ok(_) => public_messages += 1,
                        Err(err) => report.push(&format!("epoch {e} message {m}"), err),
                    }
                }
            }
            if supported.crypto().supports(cs).is_err() {
                skipped += 1;
                skipped_suites.insert(v.cipher_suite);
                continue;
            }
            let before = report.mismatches.len();
            let s = run_vector(&mut report, v, cs);
            if report.mismatches.len() == before && s.epochs != v.epochs.len() {
                report.push(
                    "end",
                    format!("{} of {} epochs ran", s.epochs, v.epochs.len()),
                );
            }
            checked += 1;
            stats.add(&s);
        }
        eprintln!(
            "{file}: {} vectors: {checked} checked, {skipped} skipped (unsupported \
             ciphersuites {skipped_suites:?}); {public_messages} proposals and commits, all \
             PublicMessages; {} epochs checked ({} proposals + {} commits); \
             seeds: {} from_external, {} by copy (expired KeyPackage lifetimes in the tree); \
             {} expired joiner KeyPackages; {:.1?}",
            vectors.len(),
            stats.epochs,
            stats.proposals,
            stats.epochs,
            stats.seeded_from_external,
            stats.seeded_by_copy,
            stats.expired_key_packages,
            file_started.elapsed(),
        );
        vectors_total += vectors.len();
        checked_total += checked;
        skipped_total += skipped;
        totals.add(&stats);
    }
    eprintln!(
        "total: {vectors_total} vectors: {checked_total} checked, {skipped_total} skipped; \
         {} epochs checked; {} mismatches; {:.1?}",
        totals.epochs,
        mismatches.len(),
        started.elapsed(),
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked_total > 0, "no vector was checked");
    assert!(totals.epochs > 0, "no epoch was checked");
    assert_eq!(checked_total + skipped_total, vectors_total);
    assert_eq!(
        totals.seeded_from_external + totals.seeded_by_copy,
        checked_total
    );
}
