//! `mimi-ds admin …`: the binary talks to a running admin listener, prints
//! the answer, and exits non-zero with a reason when the command failed.

use std::process::{Command, Output};

use ds_server::service::tokens::token_hash;
use ds_server::storage::Timestamp;
use tokio::net::TcpListener;

use crate::common::{self, Client};
use crate::group::register;
use crate::server::Server;
use crate::support::{TestDb, on_both_backends};
use crate::tokens::is_token;

/// Runs `mimi-ds admin --admin URL args…`.
async fn admin(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mimi-ds"));
    command.arg("admin").args(args).args(["--admin", url]);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn the_admin_command_talks_to_the_admin_listener(db: TestDb) {
    let store = &db.store;
    let server = Server::plain(store.clone()).await;
    let url = format!("http://{}", server.admin);
    let frank = Client::new("frank@ds-a.example/desk");
    register(store, &frank, Timestamp::now()).await;

    // status: JSON on stdout, exit 0.
    let out = admin(&url, &["status"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["domain"], common::DOMAIN);
    assert_eq!(report["registered_clients"], 1);
    assert_eq!(report["database"], store.backend().name());

    // issue-token: the token on stdout, and it registers a client.
    let out = admin(&url, &["issue-token"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout);
    assert!(token.ends_with('\n'));
    let token = token.trim_end();
    assert!(is_token(token), "{token:?}");
    let hash = token_hash(&server.ctx, token.as_bytes()).unwrap();
    let grace = Client::new("grace@ds-a.example/phone");
    store
        .register_client_with_token(
            &hash,
            grace.id.as_str(),
            grace.signer.public(),
            Timestamp::now(),
        )
        .await
        .unwrap();

    // delete-client: an unknown client fails with the listener's reason.
    let out = admin(&url, &["delete-client", "nobody@ds-a.example/x"]).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("404") && stderr.contains("nobody@ds-a.example/x"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // delete-client and delete-user of registered clients succeed.
    let out = admin(&url, &["delete-client", frank.id.as_str()]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["deleted"][0]["client_id"], frank.id.as_str());
    assert!(store.client(frank.id.as_str()).await.unwrap().is_none());
    let out = admin(&url, &["delete-user", "grace@ds-a.example"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(store.client(grace.id.as_str()).await.unwrap().is_none());

    // A malformed id is refused by the listener (400), not sent elsewhere.
    let out = admin(&url, &["delete-user", "../../status"]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("400"), "{}", text(&out.stderr));

    server.stop().await;

    // Nobody listening: a clear failure.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let out = admin(&format!("http://{address}"), &["status"]).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("mimi-ds: "), "{stderr}");
    assert!(stderr.contains(&address.to_string()), "{stderr}");
}

on_both_backends!(the_admin_command_talks_to_the_admin_listener);
