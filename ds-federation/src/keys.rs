//! Other domains' published DS signing keys, cached: fetched with
//! `signature_public_key` when missing or older than the TTL, and fetched
//! again when a message names a key id the cache does not hold, at most
//! once per refetch interval per domain (a stream of made-up key ids must
//! not become a stream of requests). Only those refetches count against the
//! interval: a key rotated in just after an ordinary fetch is still found
//! at once. One fetch per domain is in flight at a
//! time; concurrent callers wait for it and share its result.
//!
//! It must not judge keys (validity, expiry, signatures are ds-core's) and
//! does no I/O behind [`VoucherKeys`], which the sans-I/O engine calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ds_core::federation::VoucherKeys;
use ds_core::wire::{Domain, DsError, DsErrorCode, DsSigningKey};

use crate::client::PeerClient;

/// Domains remembered before those with stale keys are dropped.
const MAX_DOMAINS: usize = 10_000;

/// A cache of other domains' DS signing keys. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct PeerKeys {
    inner: Arc<Inner>,
}

struct Inner {
    client: PeerClient,
    ttl_secs: u64,
    refetch_secs: u64,
    domains: Mutex<HashMap<Domain, Arc<DomainKeys>>>,
}

#[derive(Default)]
struct DomainKeys {
    cached: RwLock<Option<Cached>>,
    /// Held for the whole of a fetch: one in flight per domain.
    fetching: tokio::sync::Mutex<()>,
    /// When an unknown key id last caused a fetch (the rate-limited kind).
    refetched_at: Mutex<Option<u64>>,
}

#[derive(Clone)]
struct Cached {
    fetched_at: u64,
    keys: Vec<DsSigningKey>,
}

impl DomainKeys {
    fn get(&self) -> Option<Cached> {
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set(&self, cached: Cached) {
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(cached);
    }
}

impl std::fmt::Debug for PeerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let domains = self.inner.domains.lock().map(|d| d.len()).unwrap_or(0);
        f.debug_struct("PeerKeys")
            .field("ttl_secs", &self.inner.ttl_secs)
            .field("refetch_secs", &self.inner.refetch_secs)
            .field("domains", &domains)
            .finish_non_exhaustive()
    }
}

impl PeerKeys {
    /// A cache fetching with `client`; keys are kept `ttl`, and an unknown
    /// key id triggers a refetch at most once per `refetch_interval`.
    pub fn new(client: PeerClient, ttl: Duration, refetch_interval: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                ttl_secs: ttl.as_secs(),
                refetch_secs: refetch_interval.as_secs(),
                domains: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// `domain`'s keys: cached if fetched less than the TTL before `now`
    /// (Unix seconds), else fetched. `PeerUnavailable` when the fetch fails.
    pub async fn keys(&self, domain: &Domain, now: u64) -> Result<Vec<DsSigningKey>, DsError> {
        let entry = self.entry(domain, now);
        if let Some(keys) = self.fresh(&entry, now) {
            return Ok(keys);
        }
        let _fetching = entry.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(keys) = self.fresh(&entry, now) {
            return Ok(keys);
        }
        self.fetch(domain, &entry, now).await
    }

    /// `domain`'s keys, fetched again when none has id `key_id` unless such
    /// a refetch happened less than the refetch interval ago.
    /// `UnknownSigningKey` when the id is still unknown (or the refetch was
    /// rate-limited), `PeerUnavailable` when a fetch fails.
    pub async fn keys_with(
        &self,
        domain: &Domain,
        key_id: &[u8],
        now: u64,
    ) -> Result<Vec<DsSigningKey>, DsError> {
        let keys = self.keys(domain, now).await?;
        if holds(&keys, key_id) {
            return Ok(keys);
        }
        let entry = self.entry(domain, now);
        let _fetching = entry.fetching.lock().await;
        let last = entry.get();
        if let Some(cached) = &last {
            // A refetch by a concurrent caller may have brought the key.
            if holds(&cached.keys, key_id) {
                return Ok(cached.keys.clone());
            }
        }
        {
            let mut refetched = entry.refetched_at.lock().unwrap_or_else(|e| e.into_inner());
            if refetched.is_some_and(|at| now < at.saturating_add(self.inner.refetch_secs)) {
                return Err(unknown(
                    domain,
                    key_id,
                    "its keys were fetched again just now",
                ));
            }
            *refetched = Some(now);
        }
        let keys = self.fetch(domain, &entry, now).await?;
        if holds(&keys, key_id) {
            Ok(keys)
        } else {
            Err(unknown(domain, key_id, "not among the keys it publishes"))
        }
    }

    fn fresh(&self, entry: &DomainKeys, now: u64) -> Option<Vec<DsSigningKey>> {
        entry
            .get()
            .filter(|c| now < c.fetched_at.saturating_add(self.inner.ttl_secs))
            .map(|c| c.keys)
    }

    async fn fetch(
        &self,
        domain: &Domain,
        entry: &DomainKeys,
        now: u64,
    ) -> Result<Vec<DsSigningKey>, DsError> {
        match self.inner.client.signature_public_keys(domain).await {
            Ok(keys) => {
                tracing::debug!(peer = %domain, keys = keys.len(), "fetched peer DS keys");
                entry.set(Cached {
                    fetched_at: now,
                    keys: keys.clone(),
                });
                Ok(keys)
            }
            Err(error) => {
                tracing::warn!(peer = %domain, reason = error.reason(), %error,
                    "fetching peer DS keys failed");
                Err(DsError::new(
                    DsErrorCode::PeerUnavailable,
                    format!("the signing keys of {domain} could not be fetched: {error}"),
                ))
            }
        }
    }

    fn entry(&self, domain: &Domain, now: u64) -> Arc<DomainKeys> {
        let mut domains = self.inner.domains.lock().unwrap_or_else(|e| e.into_inner());
        if !domains.contains_key(domain) && domains.len() >= MAX_DOMAINS {
            let ttl = self.inner.ttl_secs;
            domains.retain(|_, e| {
                e.get()
                    .is_some_and(|c| now < c.fetched_at.saturating_add(ttl))
            });
        }
        Arc::clone(domains.entry(domain.clone()).or_default())
    }
}

/// The keys fetched so far, whatever their age; no I/O.
impl VoucherKeys for PeerKeys {
    fn keys(&self, domain: &Domain) -> Option<Vec<DsSigningKey>> {
        let domains = self.inner.domains.lock().unwrap_or_else(|e| e.into_inner());
        domains.get(domain)?.get().map(|c| c.keys)
    }
}

fn holds(keys: &[DsSigningKey], key_id: &[u8]) -> bool {
    keys.iter().any(|k| k.key_id.as_slice() == key_id)
}

fn unknown(domain: &Domain, key_id: &[u8], why: &str) -> DsError {
    DsError::new(
        DsErrorCode::UnknownSigningKey,
        format!("{domain} has no signing key {}: {why}", hex::encode(key_id)),
    )
}
