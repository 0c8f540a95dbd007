//! Two real `mimi-ds` processes, `ds-a.test` and `ds-b.test`, on loopback
//! with certificates of a test CA, each reaching the other through a small
//! TCP forwarder of the test (listening before either starts, so each
//! configuration can name the other). Clients are SDK clients configured
//! with the CA and both DSs' addresses.

pub mod node;
// The CA and the forwarder of ds-server's federation tests, shared.
#[allow(dead_code)]
#[path = "../../../ds-server/tests/federation/pki.rs"]
pub mod pki;
#[allow(dead_code)]
#[path = "../../../ds-server/tests/federation/proxy.rs"]
pub mod proxy;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ds_client_sdk::{Client, ClientConfig, Domain, Event, Tuning, UserId};
use tempfile::TempDir;

use node::{Node, NodeConfig};
use pki::TestCa;
use proxy::Proxy;

pub const A: &str = "ds-a.test";
pub const B: &str = "ds-b.test";

/// Both DSs and what clients need to reach them.
pub struct World {
    pub ca: TestCa,
    pub a: Node,
    pub b: Node,
    _to_a: Proxy,
    _to_b: Proxy,
    pub dir: TempDir,
}

impl World {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "test-ca");
        let (to_a, to_b) = (Proxy::start().await, Proxy::start().await);
        let config = |domain: &str, peer: &str, via: &Proxy| NodeConfig {
            domain: domain.to_owned(),
            data_dir: dir.path().join(domain),
            cert: ca.issue(domain),
            trust_roots: vec![ca.cert.clone()],
            peers: vec![(peer.to_owned(), via.addr)],
        };
        let b = Node::start(config(B, A, &to_a));
        to_b.point_to(Some(b.public));
        let a = Node::start(config(A, B, &to_b));
        to_a.point_to(Some(a.public));
        Self {
            ca,
            a,
            b,
            _to_a: to_a,
            _to_b: to_b,
            dir,
        }
    }

    /// The configuration of client `user/device`, its state in `state_dir`.
    pub fn config(&self, user: &str, device: &str, state_dir: &Path) -> ClientConfig {
        let mut config = ClientConfig::new(UserId::new(user).unwrap(), device, state_dir).unwrap();
        config.trust_roots = vec![self.ca.cert.clone()];
        config.peers = BTreeMap::from([
            (Domain::new(A).unwrap(), self.a.public.to_string()),
            (Domain::new(B).unwrap(), self.b.public.to_string()),
        ]);
        config.tuning = Tuning {
            key_package_pool: 3,
            key_package_low_water: 2,
            poll_interval: Duration::from_millis(500),
            ..Tuning::default()
        };
        config
    }

    /// Opens (creating or restoring) client `user/device` whose state is
    /// in the world's directory under `name`.
    pub async fn client(&self, user: &str, device: &str) -> Client {
        let state = self
            .dir
            .path()
            .join("clients")
            .join(format!("{user}-{device}"));
        Client::open(self.config(user, device, &state))
            .await
            .unwrap_or_else(|e| panic!("opening {user}/{device}: {e}"))
    }
}

/// How long a test waits for an event that must come.
pub const EVENT_WAIT: Duration = Duration::from_secs(30);

/// The next event, which must come in time.
pub async fn next(client: &Client) -> Event {
    client
        .next_event_within(EVENT_WAIT)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{}: no event within {EVENT_WAIT:?}", client.id()))
}

/// Asserts that no event arrives within `wait`.
pub async fn quiet(client: &Client, wait: Duration) {
    if let Some(event) = client.next_event_within(wait).await.unwrap() {
        panic!("{}: unexpected event {event:?}", client.id());
    }
}
