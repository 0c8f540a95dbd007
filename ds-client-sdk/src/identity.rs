//! Who the client is in MLS and towards its home DS: its client id, its
//! one Ed25519 key (registered at the home DS, so the same key signs queue
//! requests, key packages and leaves, which is what the home DS's voucher
//! vouches for), and the leaves it makes: every leaf carries the voucher in
//! the extension 0xF1D5 (spec §11.4) and lists, in its capabilities, that
//! extension and the group-name extension [`GROUP_NAME_EXTENSION`].

use std::time::{SystemTime, UNIX_EPOCH};

use ds_core::queue::sign_qs_request;
use ds_core::wire::{ClientId, ClientVoucher, QsRequest, QsRequestBody, VOUCHER_EXTENSION_TYPE};
use openmls::prelude::{
    BasicCredential, Capabilities, Ciphersuite, CredentialWithKey, Extension, ExtensionType,
    Extensions, KeyPackage, LeafNode, LeafNodeParameters, MlsMessageOut, UnknownExtension,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::random::OpenMlsRand as _;
use tls_codec::Serialize as _;

use crate::error::{Error, Result};
use crate::provider::SdkProvider;

/// The one ciphersuite of SDK groups and key packages (Ed25519 signatures,
/// as the home DS registers and vouches for Ed25519 keys only).
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// GroupContext extension carrying a group's name (UTF-8), from the
/// private-use range next to the voucher's 0xF1D5. The creator sets it, so
/// every joiner reads the name from the Welcome's GroupContext. The DS does
/// not look at it.
pub const GROUP_NAME_EXTENSION: u16 = 0xF1D6;

/// Bytes of random nonce per signed request (spec §13.2: 16 to 32).
const NONCE_LEN: usize = 16;

/// The client's identity and keys.
#[derive(Debug)]
pub struct Identity {
    /// Its client id.
    pub id: ClientId,
    /// Its Ed25519 key.
    pub signer: SignatureKeyPair,
    /// Its home DS's voucher for that key, once fetched.
    pub voucher: Option<ClientVoucher>,
}

impl Identity {
    /// The basic credential naming the client, with its key.
    pub fn credential(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(self.id.as_str().as_bytes().to_vec()).into(),
            signature_key: self.signer.public().into(),
        }
    }

    /// Leaf capabilities: the voucher and group-name extensions, and the
    /// last-resort key-package extension (RFC 9420 requires a key
    /// package's extensions to be listed in its leaf's capabilities).
    pub fn capabilities() -> Capabilities {
        let types = [
            ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE),
            ExtensionType::Unknown(GROUP_NAME_EXTENSION),
            ExtensionType::LastResort,
        ];
        Capabilities::new(None, None, Some(&types), None, None)
    }

    /// The leaf extensions: the voucher, if fetched.
    pub fn leaf_extensions(&self) -> Result<Extensions<LeafNode>> {
        let Some(voucher) = &self.voucher else {
            return Ok(Extensions::empty());
        };
        let encoded = voucher
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding the voucher", e))?;
        let extension = Extension::Unknown(VOUCHER_EXTENSION_TYPE, UnknownExtension(encoded));
        Extensions::single(extension).map_err(|e| Error::mls("leaf extensions", e))
    }

    /// Leaf parameters for commits with an update path: the new leaf keeps
    /// the voucher and capabilities.
    pub fn leaf_parameters(&self) -> Result<LeafNodeParameters> {
        Ok(LeafNodeParameters::builder()
            .with_capabilities(Self::capabilities())
            .with_extensions(self.leaf_extensions()?)
            .build())
    }

    /// A new key package (its private keys go into the provider's storage),
    /// as the MLSMessage published at the home DS.
    pub fn key_package(&self, provider: &SdkProvider, last_resort: bool) -> Result<Vec<u8>> {
        let mut builder = KeyPackage::builder()
            .leaf_node_capabilities(Self::capabilities())
            .leaf_node_extensions(self.leaf_extensions()?);
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(CIPHERSUITE, provider, &self.signer, self.credential())
            .map_err(|e| Error::mls("building a key package", e))?;
        MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding a key package", e))
    }

    /// `body` as a queue request signed now with a fresh nonce.
    pub fn qs_request(&self, provider: &SdkProvider, body: QsRequestBody) -> Result<QsRequest> {
        sign_qs_request(body, self.id.clone(), now(), nonce(provider)?, &self.signer)
            .map_err(|e| Error::mls("signing a queue request", e))
    }
}

/// Unix seconds now (0 if the clock is before 1970, which the DS then
/// refuses as stale).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A fresh random nonce.
pub fn nonce(provider: &SdkProvider) -> Result<Vec<u8>> {
    provider
        .rand()
        .random_vec(NONCE_LEN)
        .map_err(|e| Error::mls("random nonce", e))
}
