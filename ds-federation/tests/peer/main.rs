//! The peer client and key cache against real TLS HTTP/2 peers on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking
#![allow(missing_debug_implementations)] // test fixtures

mod pki;
mod server;

mod fanout;
mod keys;
mod refusals;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use ds_core::wire::Domain;
use ds_federation::{DsKeyring, PeerClient, PeerClientConfig, PeerKeys};
use tempfile::TempDir;

use pki::TestCa;
use server::{Peer, State};

pub const A: &str = "a.example";
pub const B: &str = "b.example";
pub const TTL: Duration = Duration::from_secs(3600);
pub const REFETCH: Duration = Duration::from_secs(10);

pub fn domain(name: &str) -> Domain {
    Domain::new(name).unwrap()
}

/// A test world: a trusted CA and the files of the test.
pub struct World {
    pub dir: TempDir,
    pub ca: TestCa,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "trusted-ca");
        Self { dir, ca }
    }

    pub fn keyring(&self, name: &str) -> DsKeyring {
        DsKeyring::load_or_create(&self.dir.path().join(name), None, server::unix_now()).unwrap()
    }

    pub fn state(&self, name: &str, sender_keys: Option<PeerKeys>) -> State {
        State {
            keyring: self.keyring(name),
            sender_keys,
            key_requests: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
        }
    }

    /// A peer for `name` with a certificate of the trusted CA.
    pub async fn peer(&self, name: &str) -> Peer {
        Peer::start(
            self.ca.server_config(name, &[b"h2"]),
            self.state(name, None),
        )
        .await
    }

    /// A client trusting only the trusted CA, reaching `peers` at their addresses.
    pub fn client(&self, peers: &[(&str, String)]) -> PeerClient {
        client_trusting(vec![self.ca.cert.clone()], peers)
    }
}

pub fn client_trusting(trust_roots: Vec<PathBuf>, peers: &[(&str, String)]) -> PeerClient {
    PeerClient::new(PeerClientConfig {
        trust_roots,
        peers: peers
            .iter()
            .map(|(d, a)| (domain(d), a.clone()))
            .collect::<BTreeMap<_, _>>(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap()
}
