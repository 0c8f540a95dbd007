//! `[federation]`: what the DS needs to talk to other domains' DSs — the
//! CA certificates it trusts for their TLS certificates and addresses of
//! known peers. Validated here; used by the federation client (issue 4).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ds_core::wire::Domain;
use serde::Deserialize;

use super::ConfigError;

/// `[federation]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFederation {
    pub trust_roots: Vec<PathBuf>,
    pub peers: Vec<RawPeer>,
}

/// One `[[federation.peers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPeer {
    pub domain: String,
    pub address: String,
}

/// Validated federation settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FederationConfig {
    /// PEM files of CA certificates trusted for peer DSs' certificates.
    pub trust_roots: Vec<PathBuf>,
    /// Known peers: domain → `host:port` of its DS (other domains are
    /// resolved from their name).
    pub peers: BTreeMap<Domain, String>,
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
    Ok(FederationConfig {
        trust_roots: raw.trust_roots,
        peers,
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

    fn check(peers: Vec<RawPeer>) -> Result<FederationConfig, ConfigError> {
        let own = Domain::new("ds-a.example").unwrap();
        validate_federation(
            RawFederation {
                trust_roots: Vec::new(),
                peers,
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
                peers: Vec::new(),
            },
            &own,
        );
        assert!(matches!(result, Err(ConfigError::TrustRoot(p)) if p == missing));
    }
}
