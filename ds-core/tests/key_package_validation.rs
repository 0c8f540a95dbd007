//! `validate_key_package` against real openmls key packages: the accepted
//! ones and each refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{CS, Client};
use ds_core::group::CONNECTION_KEY_PACKAGE_EXTENSION;
use ds_core::queue::{ValidatedKeyPackage, validate_key_package};
use ds_core::wire::{ClientId, DsError, DsErrorCode, KeyPackageKind};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::Serialize as _;

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How a test key package is built.
#[derive(Default)]
struct Recipe {
    lifetime: Option<Lifetime>,
    last_resort: bool,
    connection: bool,
}

/// A key package of `client` as the MLSMessage a client publishes, plus
/// openmls's own view of it.
fn build(client: &Client, recipe: Recipe) -> (Vec<u8>, KeyPackage) {
    build_as(
        client,
        CS,
        &client.signer,
        client.credential.clone(),
        recipe,
    )
}

fn build_as(
    client: &Client,
    ciphersuite: Ciphersuite,
    signer: &SignatureKeyPair,
    credential: CredentialWithKey,
    recipe: Recipe,
) -> (Vec<u8>, KeyPackage) {
    let mut builder = KeyPackage::builder();
    let mut types = vec![ExtensionType::LastResort];
    if recipe.connection {
        types.push(ExtensionType::Unknown(CONNECTION_KEY_PACKAGE_EXTENSION));
        builder = builder.key_package_extensions(
            Extensions::single(Extension::Unknown(
                CONNECTION_KEY_PACKAGE_EXTENSION,
                UnknownExtension(vec![]),
            ))
            .unwrap(),
        );
    }
    builder =
        builder.leaf_node_capabilities(Capabilities::new(None, None, Some(&types), None, None));
    if recipe.last_resort {
        builder = builder.mark_as_last_resort();
    }
    if let Some(lifetime) = recipe.lifetime {
        builder = builder.key_package_lifetime(lifetime);
    }
    let kp = builder
        .build(ciphersuite, &client.provider, signer, credential)
        .unwrap()
        .key_package()
        .clone();
    let bytes = MlsMessageOut::from(kp.clone())
        .tls_serialize_detached()
        .unwrap();
    (bytes, kp)
}

fn id(s: &str) -> ClientId {
    ClientId::new(s).unwrap()
}

/// Validates as `client` publishing its own (registered) key.
fn validate(
    client: &Client,
    bytes: &[u8],
    kind: KeyPackageKind,
) -> Result<ValidatedKeyPackage, DsError> {
    validate_key_package(bytes, kind, &client.id, client.signer.public(), now())
}

fn assert_refused(result: Result<ValidatedKeyPackage, DsError>, detail: &str) {
    let error = result.expect_err("the key package must be refused");
    assert_eq!(error.code, DsErrorCode::InvalidKeyPackage, "{error}");
    assert!(
        error.detail().contains(detail),
        "detail {:?} should mention {detail:?}",
        error.detail()
    );
}

#[test]
fn accepts_a_regular_key_package() {
    let alice = Client::new(ALICE);
    let (bytes, kp) = build(&alice, Recipe::default());
    let validated = validate(&alice, &bytes, KeyPackageKind::Regular).unwrap();
    let expected_ref = kp.hash_ref(alice.provider.crypto()).unwrap();
    assert_eq!(validated.kp_ref, expected_ref.as_slice());
    assert_eq!(validated.not_after, kp.life_time().not_after());
    assert!(validated.not_after > now());
    assert!(!validated.last_resort);
}

#[test]
fn reads_the_last_resort_extension() {
    let alice = Client::new(ALICE);
    let (bytes, _) = build(
        &alice,
        Recipe {
            last_resort: true,
            ..Recipe::default()
        },
    );
    assert!(
        validate(&alice, &bytes, KeyPackageKind::Regular)
            .unwrap()
            .last_resort
    );

    let (bytes, _) = build(
        &alice,
        Recipe {
            last_resort: true,
            connection: true,
            ..Recipe::default()
        },
    );
    assert!(
        validate(&alice, &bytes, KeyPackageKind::Connection)
            .unwrap()
            .last_resort
    );
}

#[test]
fn kind_must_match_the_connection_extension() {
    let alice = Client::new(ALICE);
    let (regular, _) = build(&alice, Recipe::default());
    let (connection, _) = build(
        &alice,
        Recipe {
            connection: true,
            ..Recipe::default()
        },
    );
    assert!(validate(&alice, &connection, KeyPackageKind::Connection).is_ok());
    assert_refused(
        validate(&alice, &regular, KeyPackageKind::Connection),
        "must carry extension 0xf0a1",
    );
    assert_refused(
        validate(&alice, &connection, KeyPackageKind::Regular),
        "must not carry the connection extension",
    );
}

#[test]
fn refuses_a_credential_naming_another_client() {
    let bob = Client::new(BOB);
    let (bytes, _) = build(&bob, Recipe::default());
    // Alice publishes bob's package with bob's key claimed as hers.
    let result = validate_key_package(
        &bytes,
        KeyPackageKind::Regular,
        &id(ALICE),
        bob.signer.public(),
        now(),
    );
    assert_refused(
        result,
        "names bob@ds-a.example/phone, not the publishing client",
    );
}

#[test]
fn refuses_a_signature_key_that_is_not_the_registered_one() {
    let alice = Client::new(ALICE);
    // Someone with another key builds a package naming alice.
    let other = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(ALICE.as_bytes().to_vec()).into(),
        signature_key: other.public().into(),
    };
    let (bytes, _) = build_as(&alice, CS, &other, credential, Recipe::default());
    assert_refused(
        validate(&alice, &bytes, KeyPackageKind::Regular),
        "is not the key alice@ds-a.example/laptop registered",
    );
    // The same package is fine for whoever registered that key.
    assert!(
        validate_key_package(
            &bytes,
            KeyPackageKind::Regular,
            &id(ALICE),
            other.public(),
            now()
        )
        .is_ok()
    );
}

#[test]
fn refuses_a_credential_that_is_no_client_id() {
    let alice = Client::new(ALICE);
    let credential = CredentialWithKey {
        credential: BasicCredential::new(b"not a client id".to_vec()).into(),
        signature_key: alice.signer.public().into(),
    };
    let (bytes, _) = build_as(&alice, CS, &alice.signer, credential, Recipe::default());
    assert_refused(
        validate(&alice, &bytes, KeyPackageKind::Regular),
        "credential is unusable",
    );
}

#[test]
fn refuses_a_broken_signature() {
    let alice = Client::new(ALICE);
    let (mut bytes, _) = build(&alice, Recipe::default());
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    assert_refused(
        validate(&alice, &bytes, KeyPackageKind::Regular),
        "not valid: The key package signature is not valid",
    );
}

#[test]
fn refuses_lifetimes_not_containing_now() {
    let alice = Client::new(ALICE);
    let t = now();
    let (bytes, _) = build(
        &alice,
        Recipe {
            lifetime: Some(Lifetime::init(t - 100, t + 1_000)),
            ..Recipe::default()
        },
    );
    let at = |now_unix| {
        validate_key_package(
            &bytes,
            KeyPackageKind::Regular,
            &alice.id,
            alice.signer.public(),
            now_unix,
        )
    };
    assert!(at(t).is_ok());
    assert_refused(at(t - 101), &format!("not valid before {}", t - 100));
    assert_refused(at(t + 1_000), &format!("expired at {}", t + 1_000));

    // Already expired by the wall clock: openmls's own check refuses it too.
    let (expired, _) = build(
        &alice,
        Recipe {
            lifetime: Some(Lifetime::init(t - 1_000, t - 10)),
            ..Recipe::default()
        },
    );
    assert_refused(
        validate(&alice, &expired, KeyPackageKind::Regular),
        "not valid",
    );
}

#[test]
fn refuses_ciphersuites_without_ed25519() {
    let alice = Client::new(ALICE);
    let p256 = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
    let signer = SignatureKeyPair::new(p256.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(ALICE.as_bytes().to_vec()).into(),
        signature_key: signer.public().into(),
    };
    let (bytes, _) = build_as(&alice, p256, &signer, credential, Recipe::default());
    let result = validate_key_package(
        &bytes,
        KeyPackageKind::Regular,
        &alice.id,
        signer.public(),
        now(),
    );
    assert_refused(result, "ciphersuite 0x0002 is not accepted");

    // An unknown ciphersuite number is named, not reported as a decoding error.
    let (mut bytes, _) = build(&alice, Recipe::default());
    bytes[6..8].copy_from_slice(&0x0bad_u16.to_be_bytes());
    assert_refused(
        validate(&alice, &bytes, KeyPackageKind::Regular),
        "ciphersuite 0x0bad is not accepted",
    );

    // The other Ed25519 ciphersuite is accepted.
    let chacha = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
    let (bytes, _) = build_as(
        &alice,
        chacha,
        &alice.signer,
        alice.credential.clone(),
        Recipe::default(),
    );
    assert!(validate(&alice, &bytes, KeyPackageKind::Regular).is_ok());
}

#[test]
fn refuses_what_is_not_a_key_package_message() {
    let alice = Client::new(ALICE);
    let (bytes, _) = build(&alice, Recipe::default());

    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_refused(
        validate(&alice, &trailing, KeyPackageKind::Regular),
        "not a well-formed MLSMessage",
    );
    assert_refused(
        validate(&alice, &bytes[..bytes.len() / 2], KeyPackageKind::Regular),
        "not a well-formed MLSMessage",
    );
    assert_refused(
        validate(&alice, &bytes[..5], KeyPackageKind::Regular),
        "too short to decode",
    );
    assert_refused(validate(&alice, &[], KeyPackageKind::Regular), "too short");

    // The same bytes labelled as a PublicMessage.
    let mut relabelled = bytes.clone();
    relabelled[2..4].copy_from_slice(&1_u16.to_be_bytes());
    assert_refused(
        validate(&alice, &relabelled, KeyPackageKind::Regular),
        "holds wire format 1, not a KeyPackage",
    );

    // A real MLSMessage of another kind: a GroupInfo.
    let mut creator = Client::new(BOB);
    creator.create_group_with("g1@ds-a.example", Extensions::empty());
    let group_info: MlsMessageOut = creator
        .group()
        .export_group_info(creator.provider.crypto(), &creator.signer, false)
        .unwrap();
    let group_info = group_info.tls_serialize_detached().unwrap();
    assert_refused(
        validate(&alice, &group_info, KeyPackageKind::Regular),
        "not a KeyPackage",
    );
}
