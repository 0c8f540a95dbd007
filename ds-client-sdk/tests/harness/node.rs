//! One `mimi-ds serve` process configured by a file; its addresses read
//! from the lines it prints when ready. The binary is the workspace's
//! `target/debug/mimi-ds`, built once by the first test that needs it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use super::pki::ServerCert;

pub struct NodeConfig {
    pub domain: String,
    pub data_dir: PathBuf,
    pub cert: ServerCert,
    pub trust_roots: Vec<PathBuf>,
    pub peers: Vec<(String, SocketAddr)>,
}

impl NodeConfig {
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

pub struct Node {
    child: Child,
    pub public: SocketAddr,
}

/// The `mimi-ds` binary, built if needed.
fn binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "ds-server", "--bin", "mimi-ds"])
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success(), "building mimi-ds failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        target.join("debug").join("mimi-ds")
    })
}

impl Node {
    pub fn start(config: NodeConfig) -> Self {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let file = config.data_dir.join("mimi-ds.toml");
        std::fs::write(&file, config.toml()).unwrap();
        let log = std::fs::File::create(config.data_dir.join("stderr.log")).unwrap();
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--config")
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let public = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("{} exited before announcing", config.domain))
                .unwrap();
            if let Some(rest) = line.split("listening on https://").nth(1) {
                break rest.split('/').next().unwrap().parse().unwrap();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self { child, public }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
