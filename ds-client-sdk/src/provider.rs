//! The openmls provider of a client: RustCrypto for cryptography and an
//! in-memory key-value storage whose whole content is snapshotted into the
//! client's state file after every change and restored when it opens.
//!
//! openmls keeps every secret it needs (group epochs, key-package private
//! keys, message ratchets) in this storage, and deletes used ones (a
//! decrypted message's key) there. Writing it in the same file as the SDK's
//! own positions is what keeps "processed" and "delivered" consistent
//! across a crash.

use std::collections::HashMap;

use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;

/// Crypto plus snapshot-able storage.
#[derive(Debug, Default)]
pub struct SdkProvider {
    crypto: RustCrypto,
    storage: MemoryStorage,
}

impl OpenMlsProvider for SdkProvider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}

impl SdkProvider {
    /// A provider whose storage holds `entries` (a [`SdkProvider::snapshot`]).
    pub fn restore(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Self {
        let values: HashMap<Vec<u8>, Vec<u8>> = entries.into_iter().collect();
        Self {
            crypto: RustCrypto::default(),
            storage: MemoryStorage {
                values: std::sync::RwLock::new(values),
            },
        }
    }

    /// Every storage entry, sorted by key so equal states give equal bytes.
    pub fn snapshot(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let values = self
            .storage
            .values
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> =
            values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        entries.sort();
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_restores_the_same_storage() {
        let provider = SdkProvider::default();
        let key = openmls_basic_credential::SignatureKeyPair::new(
            openmls::prelude::SignatureScheme::ED25519,
        )
        .expect("key");
        key.store(provider.storage()).expect("store");
        let restored = SdkProvider::restore(provider.snapshot());
        assert_eq!(restored.snapshot(), provider.snapshot());
        let read = openmls_basic_credential::SignatureKeyPair::read(
            restored.storage(),
            key.public(),
            openmls::prelude::SignatureScheme::ED25519,
        );
        assert_eq!(
            read.map(|k| k.public().to_vec()),
            Some(key.public().to_vec())
        );
    }
}
