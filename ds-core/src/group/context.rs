//! What the engine needs to know about the DS it runs in.

use std::sync::{Arc, PoisonError, RwLock};

use openmls::prelude::{BasicCredential, Credential, ExternalSender, SignaturePublicKey};
use openmls_rust_crypto::RustCrypto;

use crate::federation::VoucherKeys;
use crate::wire::Domain;

/// The owning DS's identity and policies, plus the crypto backend.
///
/// Built once at start by the server; cheap to borrow per request.
#[derive(Debug)]
pub struct EngineContext {
    domain: Domain,
    ds_credential: Credential,
    /// Every external-sender key of this DS, the current one last: groups
    /// created before a key rotation keep listing an older one.
    ds_signature_keys: RwLock<Vec<SignaturePublicKey>>,
    crypto: RustCrypto,
    voucher_keys: Option<Arc<dyn VoucherKeys>>,
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
            ds_signature_keys: RwLock::new(vec![ds_signature_key.into()]),
            crypto: RustCrypto::default(),
            voucher_keys: None,
            welcome_retention_secs: 14 * 24 * 3600,
        }
    }

    /// The same context, looking up other domains' DS signing keys in `keys`
    /// to check the vouchers of new members of those domains (spec §11.4).
    /// Without it, every client of another domain is refused as unvouched.
    pub fn with_voucher_keys(mut self, keys: Arc<dyn VoucherKeys>) -> Self {
        self.voucher_keys = Some(keys);
        self
    }

    /// Where other domains' DS signing keys are looked up, if anywhere.
    pub fn voucher_keys(&self) -> Option<&dyn VoucherKeys> {
        self.voucher_keys.as_deref()
    }

    /// This DS's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The credential groups must list in `external_senders`.
    pub fn ds_credential(&self) -> &Credential {
        &self.ds_credential
    }

    /// Adds the DS's earlier external-sender keys (oldest first), still
    /// listed by groups created before a rotation; the current key stays last.
    pub fn with_previous_keys(self, previous: impl IntoIterator<Item = Vec<u8>>) -> Self {
        {
            let mut keys = self.write_keys();
            let current = keys.pop();
            keys.extend(previous.into_iter().map(SignaturePublicKey::from));
            keys.extend(current);
        }
        self
    }

    /// Makes `key` the current external-sender key (after a rotation); the
    /// earlier keys stay the DS's own.
    pub fn rotate_to(&self, key: Vec<u8>) {
        let key = SignaturePublicKey::from(key);
        let mut keys = self.write_keys();
        keys.retain(|k| *k != key);
        keys.push(key);
    }

    /// The current key new groups list in `external_senders`.
    pub fn ds_signature_key(&self) -> SignaturePublicKey {
        let keys = self
            .ds_signature_keys
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        keys.last().cloned().unwrap_or_else(|| Vec::new().into())
    }

    /// Whether `entry` names this DS: its credential and one of its keys.
    pub fn is_own_external_sender(&self, entry: &ExternalSender) -> bool {
        self.own_key_of(entry).is_some()
    }

    /// The raw key of `entry` when it names this DS.
    pub fn own_key_of(&self, entry: &ExternalSender) -> Option<Vec<u8>> {
        self.ds_signature_keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|k| ExternalSender::new((*k).clone(), self.ds_credential.clone()) == *entry)
            .map(|k| k.as_slice().to_vec())
    }

    /// This DS as an entry of the `external_senders` extension, with its current key.
    pub fn ds_external_sender(&self) -> ExternalSender {
        ExternalSender::new(self.ds_signature_key(), self.ds_credential.clone())
    }

    fn write_keys(&self) -> std::sync::RwLockWriteGuard<'_, Vec<SignaturePublicKey>> {
        self.ds_signature_keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The crypto backend.
    pub fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }
}

/// Seconds since the Unix epoch, supplied by the caller (the core reads no clock).
pub type UnixSeconds = u64;
