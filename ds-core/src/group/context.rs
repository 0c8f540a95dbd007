//! What the engine needs to know about the DS it runs in.

use openmls::prelude::{BasicCredential, Credential, ExternalSender, SignaturePublicKey};
use openmls_rust_crypto::RustCrypto;

use crate::wire::Domain;

/// The owning DS's identity and policies, plus the crypto backend.
///
/// Built once at start by the server; cheap to borrow per request.
#[derive(Debug)]
pub struct EngineContext {
    domain: Domain,
    ds_credential: Credential,
    ds_signature_key: SignaturePublicKey,
    crypto: RustCrypto,
    /// Seconds the ratchet tree of an epoch with added clients is kept for them.
    pub welcome_retention_secs: u64,
}

impl EngineContext {
    /// A context for the DS of `domain` whose external-sender key is `ds_signature_key`
    /// (raw public key bytes). Its credential is a BasicCredential naming the domain.
    pub fn new(domain: Domain, ds_signature_key: Vec<u8>) -> Self {
        let ds_credential = BasicCredential::new(domain.as_str().as_bytes().to_vec()).into();
        Self {
            domain,
            ds_credential,
            ds_signature_key: ds_signature_key.into(),
            crypto: RustCrypto::default(),
            welcome_retention_secs: 14 * 24 * 3600,
        }
    }

    /// This DS's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The credential groups must list in `external_senders`.
    pub fn ds_credential(&self) -> &Credential {
        &self.ds_credential
    }

    /// The key groups must list in `external_senders`.
    pub fn ds_signature_key(&self) -> &SignaturePublicKey {
        &self.ds_signature_key
    }

    /// This DS as an entry of the `external_senders` extension.
    pub fn ds_external_sender(&self) -> ExternalSender {
        ExternalSender::new(self.ds_signature_key.clone(), self.ds_credential.clone())
    }

    /// The crypto backend.
    pub fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }
}

/// Seconds since the Unix epoch, supplied by the caller (the core reads no clock).
pub type UnixSeconds = u64;
