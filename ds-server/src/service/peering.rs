//! What the service needs to federate: its own signing keys (published with
//! `signature_public_key`, signing fan-outs, vouchers and its Remove
//! proposals) and other domains' keys (checking their fan-outs and the
//! vouchers of their clients).

use std::time::Duration;

use ds_core::wire::{ClientId, ClientVoucher, Domain, DsError, DsErrorCode, DsSigningKey};
use ds_federation::{
    ClientError, DsKey, DsKeyring, PeerClient, PeerClientConfig, PeerKeys, issue_voucher,
};

use super::DsService;
use crate::config::FederationConfig;
use crate::federation::SenderOptions;
use crate::storage::Timestamp;

/// The service's federation identity and peer-key cache.
#[derive(Debug, Clone)]
pub struct Peering {
    /// This DS's signing keys.
    pub keyring: DsKeyring,
    /// Other domains' signing keys, fetched over HTTPS and cached.
    pub peer_keys: PeerKeys,
    /// The client of other domains' DSs (fan-out delivery; shares its
    /// connections with the key cache's).
    pub client: PeerClient,
    /// How long a retired key stays published.
    pub key_grace: Duration,
    /// Lifetime of the vouchers issued to this DS's clients.
    pub voucher_ttl: Duration,
    /// How the outbox sender delivers (the sender is started with the
    /// service's wake, which the commit paths signal).
    pub sender: SenderOptions,
}

impl Peering {
    /// The DS of `domain` with its `keyring` and a client of other domains'
    /// DSs as `config` says.
    pub fn new(
        domain: Domain,
        keyring: DsKeyring,
        config: &FederationConfig,
    ) -> Result<Self, ClientError> {
        let client = PeerClient::new(PeerClientConfig {
            trust_roots: config.trust_roots.clone(),
            peers: config.peers.clone(),
            connect_timeout: config.request_timeout,
            request_timeout: config.request_timeout,
        })?;
        Ok(Self {
            keyring,
            peer_keys: PeerKeys::new(
                client.clone(),
                config.key_cache_ttl,
                config.key_refetch_interval,
            ),
            client,
            key_grace: config.key_grace,
            voucher_ttl: config.voucher_ttl,
            sender: SenderOptions {
                batch_entries: config.fanout_batch_entries,
                retry_max: config.retry_max,
                ..SenderOptions::new(domain)
            },
        })
    }
}

impl DsService {
    /// The federation identity, if this service federates.
    pub fn peering(&self) -> Option<&Peering> {
        self.inner.peering.get()
    }

    /// This DS's keys as `signature_public_key` lists them: the current one
    /// first, then retired keys within their grace period.
    pub(super) fn published_keys(&self) -> Option<Vec<DsSigningKey>> {
        let peering = self.peering()?;
        Some(
            peering
                .keyring
                .published(Timestamp::now().unix_secs(), peering.key_grace.as_secs()),
        )
    }

    /// The key to sign a Remove proposal in a group listing `public_key`.
    pub(super) fn removal_signer(&self, public_key: &[u8]) -> Option<std::sync::Arc<DsKey>> {
        self.peering()?.keyring.by_public_key(public_key)
    }

    /// Retires the current key and makes a new one current: fan-outs and
    /// vouchers are signed with it from now on, new groups list it, and the
    /// old one stays published for the grace period.
    pub fn rotate_key(&self) -> Result<std::sync::Arc<DsKey>, DsError> {
        let peering = self.peering().ok_or_else(|| {
            DsError::new(
                DsErrorCode::UnsupportedOperation,
                "this DS has no signing keys",
            )
        })?;
        let key = peering
            .keyring
            .rotate(Timestamp::now().unix_secs())
            .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))?;
        self.inner.ctx.rotate_to(key.public_key().to_vec());
        tracing::info!(key_id = %hex(key.key_id()), "DS signing key rotated");
        Ok(key)
    }

    /// A voucher for `client`'s registered `signature_key`, signed with the
    /// current key and valid for the configured lifetime.
    pub(super) fn voucher_for(
        &self,
        client: &ClientId,
        signature_key: &[u8],
    ) -> Result<ClientVoucher, DsError> {
        let peering = self.peering().ok_or_else(|| {
            DsError::new(
                DsErrorCode::UnsupportedOperation,
                "this DS does not vouch for its clients",
            )
        })?;
        let not_after = Timestamp::now()
            .unix_secs()
            .saturating_add(peering.voucher_ttl.as_secs());
        issue_voucher(&peering.keyring.current(), client, signature_key, not_after)
            .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
    }

    /// `domain`'s keys including the one named `key_id`, refetched when it is
    /// not cached (at most once per refetch interval).
    pub(super) async fn keys_with(
        &self,
        domain: &Domain,
        key_id: &[u8],
    ) -> Result<Vec<DsSigningKey>, DsError> {
        let peering = self.peering().ok_or_else(no_federation)?;
        peering
            .peer_keys
            .keys_with(domain, key_id, Timestamp::now().unix_secs())
            .await
    }
}

fn no_federation() -> DsError {
    DsError::new(
        DsErrorCode::UnsupportedOperation,
        "this DS does not federate with other domains",
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
