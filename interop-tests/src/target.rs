//! What the suite runs against: two deployments, the trust roots of their
//! certificates, registration tokens, and the operator of disruptions.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ds_client_sdk::Domain;
use ds_federation::DsKey;

use crate::operator::Operator;

/// One DS under test.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Its domain (what its certificate names and its users' ids end in).
    pub domain: Domain,
    /// Where the suite dials it (`host:port`).
    pub address: String,
}

/// Two federated deployments and how to reach them.
#[derive(Debug, Clone)]
pub struct Target {
    /// The first domain; groups of most scenarios are owned here.
    pub a: Deployment,
    /// The second domain, the guest of most federation scenarios.
    pub b: Deployment,
    /// PEM files of the CAs the DS certificates chain to; empty: the
    /// system's roots.
    pub trust_roots: Vec<PathBuf>,
    /// One-time registration tokens per domain, for DSs under the `token`
    /// policy; used one per client the suite registers there.
    pub tokens: Arc<Mutex<BTreeMap<Domain, VecDeque<String>>>>,
    /// Cuts, heals and restarts `b` for the scenarios that need it.
    pub operator: Arc<dyn Operator>,
    /// A third domain B federates with, whose signing key the suite holds:
    /// for the fan-outs that only a trusted peer can sign.
    pub peer: Option<PeerSigner>,
}

/// A peer domain's identity, to sign fan-outs as that domain.
#[derive(Debug, Clone)]
pub struct PeerSigner {
    /// The domain (B resolves it and trusts its certificate).
    pub domain: Domain,
    /// Its current DS signing key, as it publishes it.
    pub key: Arc<DsKey>,
}

impl Target {
    /// The `host:port` of every deployment, for client configurations.
    pub fn peers(&self) -> BTreeMap<Domain, String> {
        BTreeMap::from([
            (self.a.domain.clone(), self.a.address.clone()),
            (self.b.domain.clone(), self.b.address.clone()),
        ])
    }

    /// A registration token for `domain`, if any was given.
    pub fn take_token(&self, domain: &Domain) -> Option<String> {
        let mut tokens = self.tokens.lock().ok()?;
        tokens.get_mut(domain)?.pop_front()
    }
}

/// Splits a DS URL `https://DOMAIN[:PORT][/]` into the domain and the
/// address to dial (`DOMAIN:PORT`, port 443 by default).
pub fn parse_ds_url(url: &str) -> Result<(Domain, String), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("{url:?}: a DS URL starts with https://"))?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return Err(format!("{url:?}: a DS URL has no path"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => {
            let port: u16 = port
                .parse()
                .map_err(|_| format!("{url:?}: {port:?} is not a port"))?;
            (host, port)
        }
        None => (authority, 443),
    };
    let domain = Domain::new(host).map_err(|e| {
        format!(
            "{url:?}: the host must be the DS's domain ({e}); \
             to dial another address, add --connect DOMAIN=HOST:PORT"
        )
    })?;
    if host.len() > MAX_DOMAIN_LEN {
        return Err(format!(
            "{url:?}: a domain of more than {MAX_DOMAIN_LEN} characters leaves no room for \
             the suite's user ids (255 at most)"
        ));
    }
    Ok((domain, format!("{host}:{port}")))
}

/// Longest domain the suite accepts: its user ids (`cRUNID-N-name@domain`)
/// must stay within the 255 characters of an id.
const MAX_DOMAIN_LEN: usize = 200;

#[cfg(test)]
mod tests {
    use super::parse_ds_url;

    #[test]
    fn urls_name_the_domain_and_the_address() {
        let (domain, address) = parse_ds_url("https://ds-a.example:8443/").unwrap();
        assert_eq!(domain.as_str(), "ds-a.example");
        assert_eq!(address, "ds-a.example:8443");
        let (_, address) = parse_ds_url("https://ds-b.example").unwrap();
        assert_eq!(address, "ds-b.example:443");
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
        assert!(
            parse_ds_url("http://ds-a.example")
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            parse_ds_url("https://ds-a.example/mimi")
                .unwrap_err()
                .contains("no path")
        );
        assert!(
            parse_ds_url("https://ds-a.example:x")
                .unwrap_err()
                .contains("port")
        );
    }
}
