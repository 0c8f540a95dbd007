//! Real openmls key packages as a client publishes them, and the directory
//! requests that fetch them.

use std::time::{SystemTime, UNIX_EPOCH};

use ds_core::group::CONNECTION_KEY_PACKAGE_EXTENSION;
use ds_core::wire::{
    Bytes, ClientId, ConnectionKeyPackagesRequest, DsKeyPackage, DsRequest, DsRequestBody,
    KeyPackageKind, KeyPackageUpload, KeyPackages, KeyPackagesRequest, List, UserId,
};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::{Deserialize as _, Serialize as _};

use crate::common::{self, CS, Client};

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How a test key package is built.
#[derive(Debug, Default, Clone, Copy)]
pub struct Recipe {
    /// Ends this many seconds from now (openmls's default lifetime if `None`).
    pub expires_in: Option<u64>,
    pub last_resort: bool,
    pub connection: bool,
}

impl Recipe {
    pub const REGULAR: Self = Self {
        expires_in: None,
        last_resort: false,
        connection: false,
    };
    pub const LAST_RESORT: Self = Self {
        last_resort: true,
        ..Self::REGULAR
    };
    pub const CONNECTION: Self = Self {
        connection: true,
        ..Self::REGULAR
    };
}

/// A key package of `client` (its private keys kept in the client's
/// provider, so it can join with it) as the MLSMessage it publishes.
pub fn key_package(client: &Client, recipe: Recipe) -> Vec<u8> {
    key_package_as(client, &client.signer, client.credential.clone(), recipe)
}

/// A key package built with any signer and credential.
pub fn key_package_as(
    client: &Client,
    signer: &SignatureKeyPair,
    credential: CredentialWithKey,
    recipe: Recipe,
) -> Vec<u8> {
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
    if let Some(seconds) = recipe.expires_in {
        let t = now();
        builder = builder.key_package_lifetime(Lifetime::init(t - 60, t + seconds));
    }
    let key_package = builder
        .build(CS, &client.provider, signer, credential)
        .unwrap()
        .key_package()
        .clone();
    MlsMessageOut::from(key_package)
        .tls_serialize_detached()
        .unwrap()
}

/// A key package naming `client` but signed by another key.
pub fn forged_key_package(client: &Client) -> Vec<u8> {
    let other = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(client.id.as_str().as_bytes().to_vec()).into(),
        signature_key: other.public().into(),
    };
    key_package_as(client, &other, credential, Recipe::REGULAR)
}

/// An upload of `bytes` into pool `kind`.
pub fn upload(kind: KeyPackageKind, bytes: Vec<u8>) -> KeyPackageUpload {
    KeyPackageUpload {
        kind,
        key_package: Bytes::new(bytes).unwrap(),
    }
}

/// `ds_key_packages` for these clients.
pub fn fetch(clients: &[&ClientId]) -> DsRequest {
    let client_ids = List::new(clients.iter().map(|c| (*c).clone()).collect()).unwrap();
    common::anonymous(DsRequestBody::KeyPackages(KeyPackagesRequest {
        client_ids,
    }))
}

/// `ds_connection_key_packages` for this user.
pub fn fetch_connection(user: &str) -> DsRequest {
    common::anonymous(DsRequestBody::ConnectionKeyPackages(
        ConnectionKeyPackagesRequest {
            user_id: UserId::new(user).unwrap(),
        },
    ))
}

/// The bytes of served key packages, in order.
pub fn served(answer: &KeyPackages) -> Vec<Vec<u8>> {
    answer
        .key_packages
        .as_slice()
        .iter()
        .map(|DsKeyPackage::MlsKeyPackage(bytes)| bytes.as_slice().to_vec())
        .collect()
}

/// openmls's validated view of served bytes (what an adder does with them).
pub fn open(bytes: &[u8]) -> KeyPackage {
    let MlsMessageBodyIn::KeyPackage(key_package) = MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .extract()
    else {
        panic!("served bytes are not a KeyPackage message")
    };
    key_package
        .validate(
            OpenMlsRustCrypto::default().crypto(),
            ProtocolVersion::Mls10,
        )
        .unwrap()
}

/// Whether the served key package carries the connection extension.
pub fn is_connection(bytes: &[u8]) -> bool {
    open(bytes)
        .extensions()
        .contains(ExtensionType::Unknown(CONNECTION_KEY_PACKAGE_EXTENSION))
}
