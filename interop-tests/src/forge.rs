//! What a hostile party sends: fan-out requests no DS signed, and key
//! packages of clients no home DS vouched for.

use std::time::{SystemTime, UNIX_EPOCH};

use ds_client_sdk::{ClientId, Domain, GROUP_NAME_EXTENSION, GroupId};
use ds_core::wire::{
    ClientVoucher, DsFanoutEntry, DsFanoutRecipient, DsFanoutRequest, DsKeyPackage,
    FanoutEntryKind, List, MlsBytes, ProtocolVersion, ShortBytes, VOUCHER_EXTENSION_TYPE,
};
use ds_federation::DsKey;
use openmls::prelude::{
    BasicCredential, Capabilities, Ciphersuite, CredentialWithKey, Extension, ExtensionType,
    Extensions, KeyPackage, UnknownExtension,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::Serialize as _;

use crate::scenario::{Context as _, Failure};

/// The ciphersuite of the suite's clients (the SDK's).
const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fan-out entry of `group` at `sequence` for `recipients`, carrying
/// `message` (any bytes: a guest DS stores what the owner signed).
pub fn entry(
    group: &GroupId,
    sequence: u64,
    recipients: &[ClientId],
    message: &[u8],
) -> Result<DsFanoutEntry, Failure> {
    Ok(DsFanoutEntry {
        group_id: group.clone(),
        sequence,
        kind: FanoutEntryKind::GroupMessage,
        recipients: List::new(
            recipients
                .iter()
                .cloned()
                .map(DsFanoutRecipient::ClientIdentifier)
                .collect(),
        )
        .ctx("recipients")?,
        mls_message: MlsBytes::new(message.to_vec()).ctx("message")?,
    })
}

/// A request from `sender` to `recipient` at `timestamp`, signed by `key`
/// (a key the sender does not publish) or, with `key_id` set afterwards,
/// claiming another key.
pub fn fanout(
    sender: &Domain,
    recipient: &Domain,
    timestamp: u64,
    entries: Vec<DsFanoutEntry>,
    key: &DsKey,
) -> Result<DsFanoutRequest, Failure> {
    let mut request = DsFanoutRequest {
        version: ProtocolVersion::V1,
        sender: sender.clone(),
        recipient_domain: recipient.clone(),
        key_id: ShortBytes::default(),
        timestamp,
        entries: List::new(entries).ctx("entries")?,
        signature: ShortBytes::default(),
    };
    ds_federation::sign_fanout(key, &mut request).ctx("signing the fan-out")?;
    Ok(request)
}

/// A DS key of nobody's.
pub fn stranger_key() -> Result<DsKey, Failure> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).ctx("random seed")?;
    Ok(DsKey::from_seed(&seed))
}

/// A key package of `client` under a fresh key, carrying `voucher` (none:
/// unvouched; someone else's: a voucher for another key).
pub fn key_package(
    client: &ClientId,
    voucher: Option<&ClientVoucher>,
) -> Result<KeyPackage, Failure> {
    let provider = OpenMlsRustCrypto::default();
    let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).ctx("a key pair")?;
    let credential = CredentialWithKey {
        credential: BasicCredential::new(client.as_str().as_bytes().to_vec()).into(),
        signature_key: signer.public().into(),
    };
    let types = [
        ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE),
        ExtensionType::Unknown(GROUP_NAME_EXTENSION),
        ExtensionType::LastResort,
    ];
    let mut leaf_extensions = Vec::new();
    if let Some(voucher) = voucher {
        let bytes = voucher
            .tls_serialize_detached()
            .ctx("encoding the voucher")?;
        leaf_extensions.push(Extension::Unknown(
            VOUCHER_EXTENSION_TYPE,
            UnknownExtension(bytes),
        ));
    }
    let bundle = KeyPackage::builder()
        .leaf_node_capabilities(Capabilities::new(None, None, Some(&types), None, None))
        .leaf_node_extensions(Extensions::from_vec(leaf_extensions).ctx("leaf extensions")?)
        .build(CIPHERSUITE, &provider, &signer, credential)
        .ctx("building a key package")?;
    Ok(bundle.key_package().clone())
}

/// The voucher a published key package carries, if any.
pub fn voucher_of(key_package: &KeyPackage) -> Option<ClientVoucher> {
    use tls_codec::Deserialize as _;
    key_package
        .leaf_node()
        .extensions()
        .unknown(VOUCHER_EXTENSION_TYPE)
        .and_then(|ext| ClientVoucher::tls_deserialize_exact(&ext.0).ok())
}

/// The validated KeyPackage a DS served (`ds_key_packages` and friends).
pub fn served_key_package(served: &DsKeyPackage) -> Result<KeyPackage, Failure> {
    use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, ProtocolVersion};
    use openmls_traits::OpenMlsProvider as _;
    use tls_codec::DeserializeBytes as _;
    let DsKeyPackage::MlsKeyPackage(bytes) = served;
    let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes.as_slice())
        .ctx("decoding a served key package")?;
    let MlsMessageBodyIn::KeyPackage(key_package) = message.extract() else {
        return Err(Failure(
            "a served key package is another MLS message".into(),
        ));
    };
    let provider = OpenMlsRustCrypto::default();
    key_package
        .validate(provider.crypto(), ProtocolVersion::Mls10)
        .ctx("validating a served key package")
}
