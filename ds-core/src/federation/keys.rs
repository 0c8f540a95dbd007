//! Picking the signing key a signed message names.

use crate::wire::{Domain, DsSigningKey, SIGNATURE_SCHEME_ED25519};

/// The key of `keys` with id `key_id` that may still sign at `now`: an
/// Ed25519 key whose `not_after` is 0 (current) or not yet passed.
pub fn find_key<'a>(keys: &'a [DsSigningKey], key_id: &[u8], now: u64) -> Option<&'a DsSigningKey> {
    keys.iter().find(|key| {
        key.key_id.as_slice() == key_id
            && key.signature_scheme == SIGNATURE_SCHEME_ED25519
            && (key.not_after == 0 || key.not_after >= now)
    })
}

/// Other domains' DS signing keys as far as the caller knows them right now
/// (the engine reads no network: the server fetches them beforehand).
pub trait VoucherKeys: Send + Sync + std::fmt::Debug {
    /// The keys `domain` publishes, or `None` when none are known.
    fn keys(&self, domain: &Domain) -> Option<Vec<DsSigningKey>>;
}
