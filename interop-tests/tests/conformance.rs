//! The whole conformance suite against two real `mimi-ds` processes,
//! `ds-a.test` and `ds-b.test`, started here on loopback with certificates
//! of a test CA. Everyone (the DSs towards each other, the suite's
//! clients) reaches each DS through a TCP forwarder of the test's, which
//! is how B is cut off the network and found again after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../../ds-client-sdk/tests/harness/node.rs"]
mod node;
#[allow(dead_code)]
#[path = "../../ds-server/tests/federation/pki.rs"]
mod pki;
#[allow(dead_code)]
#[path = "../../ds-server/tests/federation/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ds_client_sdk::Domain;
use ds_federation::DsKeyring;
use interop_tests::{
    Action, Deployment, OpFuture, Operator, PeerSigner, RunOptions, Target, all, run,
};

use node::{Node, NodeConfig};
use pki::{ServerCert, TestCa};
use proxy::Proxy;

const A: &str = "ds-a.test";
const B: &str = "ds-b.test";
const C: &str = "ds-c.test";

/// How one domain's process is (re)started.
#[derive(Debug, Clone)]
struct Recipe {
    domain: String,
    data_dir: PathBuf,
    cert: ServerCert,
    trust_roots: Vec<PathBuf>,
    peers: Vec<(String, SocketAddr)>,
}

impl Recipe {
    fn start(&self) -> Node {
        Node::start(NodeConfig {
            domain: self.domain.clone(),
            data_dir: self.data_dir.clone(),
            cert: self.cert.clone(),
            trust_roots: self.trust_roots.clone(),
            peers: self.peers.clone(),
        })
    }
}

/// Domain B's process and the forwarder in front of it.
struct Harness {
    b: Mutex<Option<Node>>,
    b_recipe: Recipe,
    to_b: Proxy,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Harness")
    }
}

impl Operator for Harness {
    fn can(&self, _: Action) -> bool {
        true
    }

    fn perform(&self, action: Action) -> OpFuture<'_> {
        Box::pin(async move {
            match action {
                Action::CutB => {
                    self.to_b.point_to(None);
                    self.to_b.set_open(false);
                }
                Action::HealB => {
                    let public = self
                        .b
                        .lock()
                        .map_err(|e| e.to_string())?
                        .as_ref()
                        .map(|n| n.public);
                    self.to_b.point_to(public);
                    self.to_b.set_open(true);
                }
                Action::RestartB => {
                    self.to_b.point_to(None);
                    let old = self.b.lock().map_err(|e| e.to_string())?.take();
                    let recipe = self.b_recipe.clone();
                    let node = tokio::task::spawn_blocking(move || {
                        drop(old);
                        recipe.start()
                    })
                    .await
                    .map_err(|e| format!("restarting B: {e}"))?;
                    self.to_b.point_to(Some(node.public));
                    *self.b.lock().map_err(|e| e.to_string())? = Some(node);
                }
            }
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_conformance_suite_passes_against_two_local_domains() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "test-ca");
    let (to_a, to_b) = (Proxy::start().await, Proxy::start().await);
    let recipe = |domain: &str, peers: Vec<(String, SocketAddr)>| Recipe {
        domain: domain.to_owned(),
        data_dir: dir.path().join(domain),
        cert: ca.issue(domain),
        trust_roots: vec![ca.cert.clone()],
        peers,
    };
    // C only publishes its keys: the suite signs fan-outs to B with them.
    let c_recipe = recipe(C, Vec::new());
    let c = tokio::task::spawn_blocking({
        let c_recipe = c_recipe.clone();
        move || c_recipe.start()
    })
    .await
    .unwrap();
    let a_recipe = recipe(A, vec![(B.to_owned(), to_b.addr)]);
    let b_recipe = recipe(B, vec![(A.to_owned(), to_a.addr), (C.to_owned(), c.public)]);
    let (a, b) = tokio::task::spawn_blocking({
        let (a_recipe, b_recipe) = (a_recipe.clone(), b_recipe.clone());
        move || (a_recipe.start(), b_recipe.start())
    })
    .await
    .unwrap();
    to_a.point_to(Some(a.public));
    to_b.point_to(Some(b.public));
    let harness = Arc::new(Harness {
        b: Mutex::new(Some(b)),
        b_recipe,
        to_b: to_b.clone(),
    });
    let target = Target {
        a: Deployment {
            domain: Domain::new(A).unwrap(),
            address: to_a.addr.to_string(),
        },
        b: Deployment {
            domain: Domain::new(B).unwrap(),
            address: to_b.addr.to_string(),
        },
        trust_roots: vec![ca.cert.clone()],
        tokens: Arc::new(Mutex::new(BTreeMap::new())),
        operator: harness,
        peer: Some(PeerSigner {
            domain: Domain::new(C).unwrap(),
            key: DsKeyring::load_or_create(&c_recipe.data_dir.join("ds-keys"), None, 0)
                .unwrap()
                .current(),
        }),
    };

    // MIMI_CONFORMANCE_ONLY=CS-,SEC-FED- runs those families only.
    let only: Vec<String> = std::env::var("MIMI_CONFORMANCE_ONLY")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let scenarios: Vec<_> = all()
        .into_iter()
        .filter(|s| only.is_empty() || only.iter().any(|p| s.id.starts_with(p.as_str())))
        .collect();
    let report = run(target, &scenarios, &RunOptions::default()).await;
    print!("{}", report.table());
    println!("{}", report.summary());
    assert_eq!(
        report.results.len(),
        scenarios.len(),
        "every scenario has a row"
    );
    assert_eq!(
        (report.failed(), report.skipped()),
        (0, 0),
        "{}",
        report.table()
    );
    assert_eq!(report.passed(), scenarios.len());
    drop((a, c));
}
