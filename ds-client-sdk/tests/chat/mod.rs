//! A `mimi-chat` process driven through pipes: lines written to its stdin,
//! its stdout collected line by line for the test to wait on.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use super::harness::{A, B, World};

/// How long a line that must come may take.
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Chat {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Chat {
    /// `mimi-chat` for `user` of `domain` (A or B), device `device`.
    pub fn start(world: &World, domain: &str, user: &str, device: &str) -> Self {
        let home = if domain == A {
            world.a.public
        } else {
            world.b.public
        };
        let state = world
            .dir
            .path()
            .join("chat")
            .join(format!("{user}-{device}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mimi-chat"))
            .arg("--server")
            // The URL names the domain; --peer gives the loopback address.
            .arg(format!("https://{domain}:{}", home.port()))
            .args(["--user", user, "--device", device])
            .arg("--ca")
            .arg(&world.ca.cert)
            .arg("--state")
            .arg(&state)
            .arg("--peer")
            .arg(format!("{A}={}", world.a.public))
            .arg("--peer")
            .arg(format!("{B}={}", world.b.public))
            .args(["--linger", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = Arc::clone(&lines);
        let name = format!("{user}@{domain}/{device}");
        let who = name.clone();
        tokio::spawn(async move {
            let mut out = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = out.next_line().await {
                eprintln!("[{who}] {line}");
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            name,
            child,
            stdin,
            lines,
        }
    }

    /// Writes one line to its stdin.
    pub async fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }

    /// Waits for a line printed after the first `from` lines that `want`
    /// accepts; returns its index.
    pub async fn wait_for(&self, from: usize, what: &str, want: impl Fn(&str) -> bool) -> usize {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            {
                let lines = self.lines.lock().unwrap();
                if let Some(i) = lines.iter().skip(from).position(|l| want(l)) {
                    return from + i;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{}: no line {what} within {WAIT:?}; got {lines:#?}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for exactly `line` after the first `from` lines; returns the
    /// number of lines up to and including it.
    pub async fn expect(&self, from: usize, line: &str) -> usize {
        self.wait_for(from, &format!("{line:?}"), |l| l == line)
            .await
            + 1
    }

    /// The line at `i`.
    pub fn line(&self, i: usize) -> String {
        self.lines.lock().unwrap()[i].clone()
    }

    /// The lines printed so far.
    pub fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Closes stdin and waits for the process to exit by itself.
    pub async fn close(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: still running after stdin closed", self.name))
            .unwrap();
        assert!(status.success(), "{}: exit {status}", self.name);
        // Let the reader take the last lines.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.lines.lock().unwrap().clone()
    }
}
