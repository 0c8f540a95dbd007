//! One domain's `mimi-ds serve` process, configured by a file: its
//! domain, a data directory of its own, ephemeral listeners, a certificate
//! of a test CA, and `[federation]` with trust roots and peers (addresses of
//! the test's proxies). It can be killed, stopped and started again on the
//! same data directory; the new addresses are read from its announcement.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ds_server::http::probe::{self, AdminAnswer};
use http::{Method, StatusCode};

use crate::net::Endpoint;
use crate::pki::ServerCert;
use crate::process::announced;

const BIN: &str = env!("CARGO_BIN_EXE_mimi-ds");

/// How a node is configured.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub domain: String,
    pub data_dir: PathBuf,
    pub cert: ServerCert,
    /// CA certificates trusted for peers.
    pub trust_roots: Vec<PathBuf>,
    /// Peer domain and the address it is reached at.
    pub peers: Vec<(String, SocketAddr)>,
    /// The CA clients trust for this node's certificate.
    pub client_ca: PathBuf,
}

impl NodeConfig {
    /// The TOML file's text.
    fn toml(&self) -> String {
        let quoted = |p: &Path| format!("{:?}", p.display().to_string());
        let roots: Vec<String> = self.trust_roots.iter().map(|p| quoted(p)).collect();
        let mut text = format!(
            r#"domain = "{domain}"
data_dir = {data_dir}

[listen]
address = "127.0.0.1:0"

[admin]
address = "127.0.0.1:0"

[tls]
cert = {cert}
key = {key}

[log]
filter = "warn"

# Live push reaches listeners only by the wake-up after a commit.
[push]
poll_interval_secs = 600

[federation]
trust_roots = [{roots}]
key_cache_ttl_secs = 120
key_refetch_interval_secs = 1
retry_max_secs = 1
request_timeout_secs = 5
"#,
            domain = self.domain,
            data_dir = quoted(&self.data_dir),
            cert = quoted(&self.cert.cert),
            key = quoted(&self.cert.key),
            roots = roots.join(", "),
        );
        for (domain, addr) in &self.peers {
            text.push_str(&format!(
                "\n[[federation.peers]]\ndomain = \"{domain}\"\naddress = \"{addr}\"\n"
            ));
        }
        text
    }
}

/// A DS process (when running) and how to reach it.
pub struct Node {
    pub config: NodeConfig,
    child: Option<Child>,
    /// The public HTTPS listener of the running process.
    pub public: SocketAddr,
    /// The plain-HTTP admin listener of the running process.
    pub admin: SocketAddr,
}

impl Node {
    /// Writes the configuration and starts the process.
    pub fn start(config: NodeConfig) -> Self {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let mut node = Self {
            config,
            child: None,
            public: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        std::fs::write(node.config_file(), node.config.toml()).unwrap();
        node.restart();
        node
    }

    pub fn domain(&self) -> &str {
        &self.config.domain
    }

    /// Trusts only `roots` for peers from the next (re)start on.
    pub fn set_trust_roots(&mut self, roots: Vec<PathBuf>) {
        assert!(self.child.is_none(), "{} is running", self.domain());
        self.config.trust_roots = roots;
        std::fs::write(self.config_file(), self.config.toml()).unwrap();
    }

    fn config_file(&self) -> PathBuf {
        self.config.data_dir.join("mimi-ds.toml")
    }

    /// The sum of the samples of counter `name` whose labels include all
    /// of `labels` (`key="value"` each), 0 when there are none.
    pub async fn counter(&self, name: &str, labels: &[&str]) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter(|line| line.starts_with(&format!("{name}{{")))
            .filter(|line| labels.iter().all(|l| line.contains(l)))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Where the process writes its log (stderr), for a failing test's reader.
    pub fn log_file(&self) -> PathBuf {
        self.config.data_dir.join("stderr.log")
    }

    /// Starts the process again (after [`Node::kill9`] or [`Node::stop`])
    /// on the same data directory; it gets new ports.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.domain());
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap();
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--config")
            .arg(self.config_file())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let started =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| announced(&mut child)));
        let Ok((public, admin, _cert)) = started else {
            let _ = child.wait();
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            panic!("{} did not start; its log:\n{log}", self.domain());
        };
        self.public = public;
        self.admin = admin;
        self.child = Some(child);
    }

    /// The id of the running process (fan-out lease holders are named
    /// after it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL: the process gets no chance to flush or finish anything.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("not running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("not running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "{} exit status", self.domain());
                return;
            }
            assert!(Instant::now() < deadline, "{} did not stop", self.domain());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How clients reach the running process.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            addr: self.public,
            domain: self.config.domain.clone(),
            ca: self.config.client_ca.clone(),
        }
    }

    /// `method path` on the admin listener, through the client `mimi-ds admin` uses.
    pub async fn admin(&self, method: Method, path: &str) -> AdminAnswer {
        probe::request(
            &format!("http://{}", self.admin),
            method,
            path,
            Duration::from_secs(30),
        )
        .await
        .unwrap()
    }

    /// `GET /admin/v1/status` as JSON.
    pub async fn status(&self) -> serde_json::Value {
        let answer = self.admin(Method::GET, "/admin/v1/status").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    }

    /// Fan-outs waiting in this DS's outbox.
    pub async fn outbox_depth(&self) -> u64 {
        let status = self.status().await;
        status["outbox_depth"]
            .as_u64()
            .unwrap_or_else(|| panic!("no outbox_depth in {status}"))
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let answer = self.admin(Method::GET, "/metrics").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body
    }

    /// Where the process keeps its DS signing keys.
    pub fn key_dir(&self) -> PathBuf {
        self.config.data_dir.join("ds-keys")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
