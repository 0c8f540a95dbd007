//! `[federation]`: what the DS needs to talk to other domains' DSs — the
//! CA certificates it trusts for their TLS certificates, addresses of known
//! peers, its own key rotation grace, key caching and fan-out delivery.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ds_core::wire::Domain;
use serde::Deserialize;

use ds_core::wire::limits::MAX_FANOUT_ENTRIES;

use super::{ConfigError, MAX_LONG_SECS, positive};

/// `[federation]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFederation {
    pub trust_roots: Vec<PathBuf>,
    pub peers: Vec<RawPeer>,
    pub key_grace_secs: u64,
    pub key_cache_ttl_secs: u64,
    pub key_refetch_interval_secs: u64,
    pub voucher_ttl_secs: u64,
    pub fanout_batch_entries: u64,
    pub retry_max_secs: u64,
    pub request_timeout_secs: u64,
}

/// One `[[federation.peers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeer {
    pub domain: String,
    pub address: String,
}

/// Validated federation settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederationConfig {
    /// PEM files of CA certificates trusted for peer DSs' certificates;
    /// empty means the system's roots.
    pub trust_roots: Vec<PathBuf>,
    /// Known peers: domain → `host:port` of its DS (other domains are
    /// resolved as `{domain}:443`).
    pub peers: BTreeMap<Domain, String>,
    /// How long a retired signing key stays published and accepted.
    pub key_grace: Duration,
    /// How long other domains' keys are cached.
    pub key_cache_ttl: Duration,
    /// Least time between two fetches of one domain's keys caused by an
    /// unknown key id (so a stream of bad key ids cannot make us hammer it).
    pub key_refetch_interval: Duration,
    /// Lifetime of the vouchers this DS issues to its clients.
    pub voucher_ttl: Duration,
    /// Most entries in one fan-out request.
    pub fanout_batch_entries: usize,
    /// Longest wait between two delivery attempts to an unreachable domain.
    pub retry_max: Duration,
    /// Timeout of one request to another domain's DS.
    pub request_timeout: Duration,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            trust_roots: Vec::new(),
            peers: BTreeMap::new(),
            key_grace: Duration::from_secs(7 * 24 * 3600),
            key_cache_ttl: Duration::from_secs(3600),
            key_refetch_interval: Duration::from_secs(10),
            voucher_ttl: Duration::from_secs(30 * 24 * 3600),
            fanout_batch_entries: 500,
            retry_max: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Checks every peer (a valid domain other than ours, listed once, with a
/// `host:port` address) and that every trust-root file exists.
pub(super) fn validate_federation(
    raw: RawFederation,
    own: &Domain,
) -> Result<FederationConfig, ConfigError> {
    for root in &raw.trust_roots {
        if !root.is_file() {
            return Err(ConfigError::TrustRoot(root.clone()));
        }
    }
    let mut peers = BTreeMap::new();
    for peer in raw.peers {
        let refuse = |reason: &str| ConfigError::Peer {
            domain: peer.domain.clone(),
            reason: reason.to_owned(),
        };
        let domain = Domain::new(&peer.domain).map_err(|e| refuse(&e.to_string()))?;
        if &domain == own {
            return Err(refuse("is this DS's own domain"));
        }
        let port_ok = peer.address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(refuse("address must be host:port, e.g. ds-b.example:8443"));
        }
        if peers.insert(domain, peer.address.clone()).is_some() {
            return Err(refuse("is listed twice"));
        }
    }
    let secs = |field, value, max| positive(field, value, max).map(Duration::from_secs);
    let fanout_batch_entries = positive(
        "federation.fanout_batch_entries",
        raw.fanout_batch_entries,
        MAX_FANOUT_ENTRIES as u64,
    )?;
    Ok(FederationConfig {
        trust_roots: raw.trust_roots,
        peers,
        key_grace: secs(
            "federation.key_grace_secs",
            raw.key_grace_secs,
            MAX_LONG_SECS,
        )?,
        key_cache_ttl: secs(
            "federation.key_cache_ttl_secs",
            raw.key_cache_ttl_secs,
            MAX_LONG_SECS,
        )?,
        key_refetch_interval: secs(
            "federation.key_refetch_interval_secs",
            raw.key_refetch_interval_secs,
            3600,
        )?,
        voucher_ttl: secs(
            "federation.voucher_ttl_secs",
            raw.voucher_ttl_secs,
            MAX_LONG_SECS,
        )?,
        fanout_batch_entries: usize::try_from(fanout_batch_entries).unwrap_or(MAX_FANOUT_ENTRIES),
        retry_max: secs("federation.retry_max_secs", raw.retry_max_secs, 3600)?,
        request_timeout: secs(
            "federation.request_timeout_secs",
            raw.request_timeout_secs,
            3600,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(domain: &str, address: &str) -> RawPeer {
        RawPeer {
            domain: domain.into(),
            address: address.into(),
        }
    }

    fn raw_defaults() -> RawFederation {
        RawFederation {
            trust_roots: Vec::new(),
            peers: Vec::new(),
            key_grace_secs: 604_800,
            key_cache_ttl_secs: 3600,
            key_refetch_interval_secs: 10,
            voucher_ttl_secs: 2_592_000,
            fanout_batch_entries: 500,
            retry_max_secs: 60,
            request_timeout_secs: 10,
        }
    }

    #[test]
    fn defaults_match_the_default_impl() {
        let own = Domain::new("ds-a.example").unwrap();
        let parsed = validate_federation(raw_defaults(), &own).unwrap();
        assert_eq!(parsed, FederationConfig::default());
        let zero_batch = RawFederation {
            fanout_batch_entries: 0,
            ..raw_defaults()
        };
        assert!(matches!(
            validate_federation(zero_batch, &own),
            Err(ConfigError::Zero { .. })
        ));
    }

    fn check(peers: Vec<RawPeer>) -> Result<FederationConfig, ConfigError> {
        let own = Domain::new("ds-a.example").unwrap();
        validate_federation(
            RawFederation {
                peers,
                ..raw_defaults()
            },
            &own,
        )
    }

    #[test]
    fn peers_are_validated() {
        let ok = check(vec![peer("ds-b.example", "127.0.0.1:8444")]).unwrap();
        assert_eq!(ok.peers.len(), 1);
        for bad in [
            vec![peer("ds-a.example", "x:1")],
            vec![peer("ds-b.example", "no-port")],
            vec![peer("ds-b.example", "host:0")],
            vec![peer("not a domain", "x:1")],
            vec![peer("ds-b.example", "x:1"), peer("ds-b.example", "y:2")],
        ] {
            assert!(matches!(check(bad), Err(ConfigError::Peer { .. })));
        }
    }

    #[test]
    fn a_missing_trust_root_is_refused() {
        let own = Domain::new("ds-a.example").unwrap();
        let missing = PathBuf::from("/nonexistent/ca.pem");
        let result = validate_federation(
            RawFederation {
                trust_roots: vec![missing.clone()],
                ..raw_defaults()
            },
            &own,
        );
        assert!(matches!(result, Err(ConfigError::TrustRoot(p)) if p == missing));
    }
}
