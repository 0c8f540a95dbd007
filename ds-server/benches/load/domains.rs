//! Two federated `mimi-ds` processes on loopback: `ds-a.example` (owns the
//! groups) and `ds-b.example` (home of the remote members). Each has a
//! certificate of the bench's CA for its domain, trusts that CA for peers
//! and lists the other as `[[federation.peers]]` at its loopback address.
//! The public ports are chosen before either starts, so each can name the
//! other in its configuration file (no proxy in between).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;

use crate::pki::{Ca, ServerCert};
use crate::server::{DOMAIN, Server, binary};

/// The owning domain.
pub const A: &str = DOMAIN;
/// The guest domain: home of the remote members.
pub const B: &str = "ds-b.example";

/// Both DSs and the CA that certified them.
pub struct Domains {
    /// The owning DS.
    pub a: Server,
    /// The guest DS.
    pub b: Server,
    /// The CA certificate (PEM) clients and DSs trust.
    pub ca: std::path::PathBuf,
    /// Holds the CA's files.
    _dir: tempfile::TempDir,
}

/// What differs between the two processes.
pub struct Settings<'a> {
    /// Log filter of both servers.
    pub log_filter: &'a str,
    /// Extra `KEY=VALUE` settings of the owning DS.
    pub a_env: &'a [String],
    /// Extra `KEY=VALUE` settings of the guest DS.
    pub b_env: &'a [String],
}

impl Domains {
    /// Starts the guest DS, then the owning DS.
    pub fn start(settings: &Settings<'_>) -> Domains {
        let dir = tempfile::tempdir().expect("CA dir");
        let ca = Ca::new(dir.path());
        let (port_a, port_b) = (free_port(), free_port());
        let b = node(&ca, B, port_b, (A, port_a), settings, settings.b_env);
        let a = node(&ca, A, port_a, (B, port_b), settings, settings.a_env);
        Domains {
            a,
            b,
            ca: ca.cert.clone(),
            _dir: dir,
        }
    }
}

/// A loopback address no one listens on right now (the kernel's pick; it
/// is released at once, for the server to bind).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// One DS: its configuration file in its data directory, then the process.
fn node(
    ca: &Ca,
    domain: &str,
    listen: SocketAddr,
    peer: (&str, SocketAddr),
    settings: &Settings<'_>,
    extra: &[String],
) -> Server {
    let dir = tempfile::tempdir().expect("temp data dir");
    let cert = ca.issue(domain);
    let file = dir.path().join("mimi-ds.toml");
    let text = config(domain, dir.path(), listen, &cert, &ca.cert, peer, settings);
    std::fs::write(&file, text).expect("write configuration");
    let mut command = Command::new(binary());
    command.arg("serve").arg("--config").arg(&file);
    Server::spawn(command, dir, extra)
}

/// The TOML configuration of one DS.
fn config(
    domain: &str,
    data_dir: &Path,
    listen: SocketAddr,
    cert: &ServerCert,
    ca: &Path,
    (peer, peer_address): (&str, SocketAddr),
    settings: &Settings<'_>,
) -> String {
    let quoted = |p: &Path| format!("{:?}", p.display().to_string());
    format!(
        r#"domain = "{domain}"
data_dir = {data_dir}

[listen]
address = "{listen}"

[admin]
address = "127.0.0.1:0"

[tls]
cert = {cert}
key = {key}

[log]
filter = "{filter}"

[federation]
trust_roots = [{ca}]

[[federation.peers]]
domain = "{peer}"
address = "{peer_address}"
"#,
        data_dir = quoted(data_dir),
        cert = quoted(&cert.cert),
        key = quoted(&cert.key),
        filter = settings.log_filter,
        ca = quoted(ca),
    )
}
