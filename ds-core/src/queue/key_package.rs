//! Validation of a key package a client publishes to the directory.
//!
//! The directory hands key packages to strangers, who add the client to
//! groups with them, so a published package must be one the adder's openmls
//! accepts and must really belong to the publisher: its leaf is signed by the
//! client's registered key and its basic credential names the client. Every
//! refusal is an `InvalidKeyPackage` with a detail saying which check failed.
//!
//! openmls's `KeyPackageIn::validate` also checks the lifetime against the
//! system clock (its API offers no other way); the caller's `now_unix` is
//! checked on top, so the decision never rests on a clock this crate reads.

use openmls::prelude::{
    Ciphersuite, ExtensionType, KeyPackage, KeyPackageIn, MlsMessageBodyIn, MlsMessageIn,
    ProtocolVersion,
};
use openmls_rust_crypto::RustCrypto;
use tls_codec::{Deserialize, TlsDeserialize, TlsSize};

use crate::group::{CONNECTION_KEY_PACKAGE_EXTENSION, client_of};
use crate::wire::{ClientId, DsError, DsErrorCode, KeyPackageKind};

/// Ciphersuites accepted in the directory: those signing with Ed25519, the
/// only scheme of registered keys, so the leaf key can equal the registered one.
const ALLOWED_CIPHERSUITES: [u16; 2] = [
    Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 as u16,
    Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519 as u16,
];

/// What the directory keeps about an accepted key package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedKeyPackage {
    /// The RFC 9420 `KeyPackageRef` (hash reference) of the package.
    pub kp_ref: Vec<u8>,
    /// The end of its lifetime (Unix seconds): never handed out from then on.
    pub not_after: u64,
    /// Whether it carries the RFC 9420 `last_resort` extension.
    pub last_resort: bool,
}

/// The fixed-size start of an MLSMessage holding a KeyPackage, read before the
/// full decode so that an unknown ciphersuite is named rather than reported as
/// a decoding failure.
#[derive(Debug, TlsDeserialize, TlsSize)]
struct KeyPackageHead {
    _message_version: u16,
    wire_format: u16,
    _key_package_version: u16,
    cipher_suite: u16,
}

/// `wire_format` of an MLSMessage holding a KeyPackage (RFC 9420 §17.9).
const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;

fn refuse(detail: impl Into<String>) -> DsError {
    DsError::new(DsErrorCode::InvalidKeyPackage, detail)
}

/// Checks a key package `client` publishes into pool `kind`, given the
/// client's registered signature key and the current time. `bytes` is the
/// MLSMessage holding the KeyPackage, exactly as it will be handed out.
pub fn validate_key_package(
    bytes: &[u8],
    kind: KeyPackageKind,
    client: &ClientId,
    registered_key: &[u8],
    now_unix: u64,
) -> Result<ValidatedKeyPackage, DsError> {
    let untrusted = decode(bytes)?;
    check_owner(&untrusted, client, registered_key)?;
    let crypto = RustCrypto::default();
    let key_package = untrusted
        .validate(&crypto, ProtocolVersion::Mls10)
        .map_err(|e| refuse(format!("the key package is not valid: {e}")))?;
    let not_after = check_lifetime(&key_package, now_unix)?;
    check_kind(&key_package, kind)?;
    let kp_ref = key_package
        .hash_ref(&crypto)
        .map_err(|e| refuse(format!("the key package reference cannot be computed: {e}")))?;
    Ok(ValidatedKeyPackage {
        kp_ref: kp_ref.as_slice().to_vec(),
        not_after,
        last_resort: key_package.last_resort(),
    })
}

/// Strictly decodes the MLSMessage into an untrusted KeyPackage of an
/// allowed ciphersuite.
fn decode(bytes: &[u8]) -> Result<KeyPackageIn, DsError> {
    let head = KeyPackageHead::tls_deserialize(&mut &*bytes)
        .map_err(|e| refuse(format!("the key package is too short to decode: {e}")))?;
    if head.wire_format != WIRE_FORMAT_KEY_PACKAGE {
        return Err(refuse(format!(
            "the MLSMessage holds wire format {}, not a KeyPackage",
            head.wire_format
        )));
    }
    if !ALLOWED_CIPHERSUITES.contains(&head.cipher_suite) {
        return Err(refuse(format!(
            "ciphersuite {:#06x} is not accepted: only Ed25519 ciphersuites 0x0001 and 0x0003",
            head.cipher_suite
        )));
    }
    match MlsMessageIn::tls_deserialize_exact(bytes).map(MlsMessageIn::extract) {
        Ok(MlsMessageBodyIn::KeyPackage(key_package)) => Ok(key_package),
        Ok(_) => Err(refuse("the MLSMessage does not hold a KeyPackage")),
        Err(e) => Err(refuse(format!(
            "the key package is not a well-formed MLSMessage: {e}"
        ))),
    }
}

/// The leaf must name `client` and carry its registered key, so nobody
/// publishes in another client's name.
fn check_owner(
    key_package: &KeyPackageIn,
    client: &ClientId,
    registered_key: &[u8],
) -> Result<(), DsError> {
    let leaf = key_package.unverified_credential();
    let named = client_of(&leaf.credential)
        .map_err(|e| refuse(format!("the key package's credential is unusable: {e}")))?;
    if named != *client {
        return Err(refuse(format!(
            "the key package's credential names {named}, not the publishing client {client}"
        )));
    }
    if leaf.signature_key.as_slice() != registered_key {
        return Err(refuse(format!(
            "the key package's signature key is not the key {client} registered"
        )));
    }
    Ok(())
}

/// The lifetime must contain `now`; returns its end. (openmls's validation
/// already refused a key package without a lifetime, so `life_time` has one.)
fn check_lifetime(key_package: &KeyPackage, now: u64) -> Result<u64, DsError> {
    let lifetime = key_package.life_time();
    if now < lifetime.not_before() {
        return Err(refuse(format!(
            "the key package is not valid before {} (now {now})",
            lifetime.not_before()
        )));
    }
    if now >= lifetime.not_after() {
        return Err(refuse(format!(
            "the key package expired at {} (now {now})",
            lifetime.not_after()
        )));
    }
    Ok(lifetime.not_after())
}

/// Connection key packages carry the connection extension; regular ones don't.
fn check_kind(key_package: &KeyPackage, kind: KeyPackageKind) -> Result<(), DsError> {
    let connection = key_package
        .extensions()
        .contains(ExtensionType::Unknown(CONNECTION_KEY_PACKAGE_EXTENSION));
    match (kind, connection) {
        (KeyPackageKind::Connection, false) => Err(refuse(format!(
            "a connection key package must carry extension {CONNECTION_KEY_PACKAGE_EXTENSION:#06x}"
        ))),
        (KeyPackageKind::Regular, true) => Err(refuse(format!(
            "a regular key package must not carry the connection extension \
             {CONNECTION_KEY_PACKAGE_EXTENSION:#06x}"
        ))),
        _ => Ok(()),
    }
}
