//! The `mimi-ds` binary end to end: start with a temporary data directory
//! and ephemeral ports (configuration by environment), serve a DS request
//! over TLS, answer `healthcheck`, stop with exit code 0 on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ds_server::tls::{DEV_CERT_DIR, DEV_CERT_FILE, DEV_KEY_FILE};
use http::StatusCode;

use crate::process::announced;
use crate::support::{Proto, admin_get, ds_post, send_to, signature_key_request};

const BIN: &str = env!("CARGO_BIN_EXE_mimi-ds");

/// Kills the child if a test fails before it was stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "mimi-ds did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_over_tls_and_stops_cleanly_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("state");
    let child = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MIMI_DS__DATA_DIR", &data_dir)
        .env("MIMI_DS__LISTEN__ADDRESS", "127.0.0.1:0")
        .env("MIMI_DS__ADMIN__ADDRESS", "127.0.0.1:0")
        .env("MIMI_DS__LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let (public, admin, cert) = tokio::task::block_in_place(|| announced(&mut running.0));

    // Health comes up.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(stream) = tokio::net::TcpStream::connect(admin).await {
            drop(stream);
            if admin_get(admin, "/healthz").await.0 == StatusCode::OK {
                break;
            }
        }
        assert!(Instant::now() < deadline, "/healthz never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The development certificate was generated into the data directory.
    assert_eq!(cert, data_dir.join(DEV_CERT_DIR).join(DEV_CERT_FILE));
    assert!(cert.is_file());
    assert!(data_dir.join(DEV_CERT_DIR).join(DEV_KEY_FILE).is_file());
    assert!(
        data_dir.join("mimi-ds.sqlite3").is_file(),
        "storage not created"
    );

    // A DS request over TLS gets a decodable DSResponse (the placeholder
    // endpoint refuses it until the service is wired).
    let answer = send_to(public, &cert, Proto::H2, ds_post(signature_key_request())).await;
    let _response = answer.ds_response();

    // The healthcheck subcommand agrees.
    let check = Command::new(BIN)
        .args(["healthcheck", "--admin", &format!("http://{admin}")])
        .status()
        .unwrap();
    assert!(check.success());

    sigterm(&running.0);
    let status = tokio::task::block_in_place(|| wait_exit(&mut running.0, Duration::from_secs(15)));
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    // The database was closed: SQLite folded its write-ahead log back in.
    assert!(
        !data_dir.join("mimi-ds.sqlite3-wal").exists(),
        "the WAL file is left after a clean stop"
    );

    // Healthcheck now fails: nothing listens.
    let check = Command::new(BIN)
        .args(["healthcheck", "--admin", &admin.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(check.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_certificate_is_reused_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let mut first = None;
    for _ in 0..2 {
        let child = Command::new(BIN)
            .arg("serve")
            .env("MIMI_DS__DATA_DIR", data.path())
            .env("MIMI_DS__LISTEN__ADDRESS", "127.0.0.1:0")
            .env("MIMI_DS__ADMIN__ADDRESS", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut running = Running(child);
        let (_, _, cert) = tokio::task::block_in_place(|| announced(&mut running.0));
        let pem = std::fs::read(&cert).unwrap();
        match &first {
            None => first = Some(pem),
            Some(previous) => assert_eq!(previous, &pem, "certificate was regenerated"),
        }
        sigterm(&running.0);
        let status =
            tokio::task::block_in_place(|| wait_exit(&mut running.0, Duration::from_secs(15)));
        assert_eq!(status.code(), Some(0));
    }
}
