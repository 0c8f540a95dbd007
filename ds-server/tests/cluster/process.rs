//! `mimi-ds serve` as a child process: started with a data directory, a
//! database URL and ephemeral ports; its announced addresses read from
//! stdout; stopped with SIGTERM or killed with SIGKILL.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-ds");

/// A running server process; killed when dropped.
pub struct DsProcess {
    child: Child,
    /// The public HTTPS listener.
    pub public: SocketAddr,
    /// The server's (self-signed development) certificate.
    pub cert: PathBuf,
}

impl DsProcess {
    /// Starts `mimi-ds serve` for `domain` with state in `data_dir` and the
    /// database at `database_url`.
    pub fn start(data_dir: &Path, database_url: &str, domain: &str) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .env("MIMI_DS__DOMAIN", domain)
            .env("MIMI_DS__DATA_DIR", data_dir)
            .env("MIMI_DS__DATABASE_URL", database_url)
            .env("MIMI_DS__LISTEN__ADDRESS", "127.0.0.1:0")
            .env("MIMI_DS__ADMIN__ADDRESS", "127.0.0.1:0")
            .env("MIMI_DS__LOG__FILTER", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (public, _admin, cert) = announced(&mut child);
        Self {
            child,
            public,
            cert,
        }
    }

    /// SIGKILL: the process gets no chance to flush or finish anything.
    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "mimi-ds exit status {status:?}");
                return;
            }
            assert!(Instant::now() < deadline, "mimi-ds did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DsProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the public and admin addresses and the certificate path the binary
/// prints when it is ready, then keeps draining its stdout.
pub fn announced(child: &mut Child) -> (SocketAddr, SocketAddr, PathBuf) {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let (mut public, mut admin, mut cert) = (None, None, None);
    while public.is_none() || admin.is_none() || cert.is_none() {
        let line = lines
            .next()
            .expect("mimi-ds exited before announcing its addresses")
            .unwrap();
        if let Some(rest) = line.split("listening on https://").nth(1) {
            public = Some(rest.split('/').next().unwrap().parse().unwrap());
        } else if let Some(rest) = line.strip_prefix("mimi-ds: admin listening on http://") {
            admin = Some(rest.parse().unwrap());
        } else if let Some(rest) = line.strip_prefix("mimi-ds: TLS certificate ") {
            cert = Some(PathBuf::from(rest));
        }
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (public.unwrap(), admin.unwrap(), cert.unwrap())
}
