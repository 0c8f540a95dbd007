//! The real `mimi-ds` binary as a child process: a fresh data directory, a
//! loopback listener on a free port, and the addresses and certificate path
//! it announces on stdout.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The DS domain the benchmark server runs as.
pub const DOMAIN: &str = "ds-a.example";

/// A running `mimi-ds serve`; stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    /// Public HTTPS listener.
    pub public: SocketAddr,
    /// Plain-HTTP admin listener (status, metrics).
    pub admin: SocketAddr,
    /// The self-signed development certificate the server presents.
    pub cert: PathBuf,
    /// Data directory (SQLite file, certificate, signing key, server log).
    pub dir: tempfile::TempDir,
}

/// Where the server binary is: `$MIMI_DS_BIN`, else the `mimi-ds` that
/// cargo built for this bench (`target/release/mimi-ds`).
pub fn binary() -> PathBuf {
    std::env::var_os("MIMI_DS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mimi-ds")))
}

impl Server {
    /// Starts the server with SQLite in its data directory, or with
    /// `database_url` (e.g. PostgreSQL) when given; `extra` are further
    /// `MIMI_DS__*` settings (`KEY=VALUE`).
    pub fn start(database_url: Option<&str>, log_filter: &str, extra: &[String]) -> Server {
        let dir = tempfile::tempdir().expect("temp data dir");
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .env("MIMI_DS__DOMAIN", DOMAIN)
            .env("MIMI_DS__DATA_DIR", dir.path())
            .env("MIMI_DS__LISTEN__ADDRESS", "127.0.0.1:0")
            .env("MIMI_DS__ADMIN__ADDRESS", "127.0.0.1:0")
            .env("MIMI_DS__LOG__FILTER", log_filter);
        if let Some(url) = database_url {
            command.env("MIMI_DS__DATABASE_URL", url);
        }
        Server::spawn(command, dir, extra)
    }

    /// Starts `command` (a `mimi-ds serve` whose data directory is `dir`)
    /// with `extra` settings (`KEY=VALUE`) and waits for its announcement.
    pub fn spawn(mut command: Command, dir: tempfile::TempDir, extra: &[String]) -> Server {
        let bin = binary();
        assert!(
            bin.is_file(),
            "{} not found: run `cargo build --release -p ds-server --bin mimi-ds` \
             or set MIMI_DS_BIN",
            bin.display()
        );
        let log = std::fs::File::create(dir.path().join("server.log")).expect("server log file");
        command
            // The generator stands for many clients behind one address.
            .env("MIMI_DS__LIMITS__REQUESTS_PER_SECOND_PER_ADDRESS", "0")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        for setting in extra {
            let (key, value) = setting.split_once('=').expect("--server-env KEY=VALUE");
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn mimi-ds");
        let stdout = child.stdout.take().expect("child stdout");
        let (lines, announced) = std::sync::mpsc::channel();
        // Keeps draining stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let (mut public, mut admin, mut cert) = (None, None, None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while public.is_none() || admin.is_none() || cert.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = announced.recv_timeout(left) else {
                break;
            };
            if let Some(rest) = line.strip_prefix("mimi-ds: TLS certificate ") {
                cert = Some(PathBuf::from(rest.trim()));
            } else if let Some(rest) = line.strip_prefix("mimi-ds: admin listening on http://") {
                admin = Some(rest.trim().parse().expect("announced admin address"));
            } else if let Some((_, url)) = line.split_once(" listening on https://") {
                let address = url.split('/').next().unwrap_or_default();
                public = Some(address.parse().expect("announced address"));
            }
        }
        let (Some(public), Some(admin), Some(cert)) = (public, admin, cert) else {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("mimi-ds did not announce its addresses; its log:\n{log}");
        };
        Server {
            child,
            public,
            admin,
            cert,
            dir,
        }
    }

    /// CPU time (user + system) the server process has used so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.child.id()))
    }

    /// The server's process id (for profilers).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// CPU time (user + system) of the process whose `/proc/.../stat` is at
/// `path` (Linux; `None` elsewhere). Assumes 100 clock ticks a second.
pub fn cpu_time(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // utime and stime are the 14th and 15th fields; the command name (2nd)
    // is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
