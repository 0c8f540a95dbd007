//! Registration tokens issued on the admin listener register exactly one
//! client; the status report counts what the DS holds.

use ds_server::service::tokens::token_hash;
use ds_server::storage::{StorageError, Timestamp};
use http::{Method, StatusCode};

use crate::common::Client;
use crate::server::{Server, TOKEN_TTL};
use crate::support::{TestDb, on_both_backends};

const DAVE: &str = "dave@ds-a.example/phone";
const ERIN: &str = "erin@ds-a.example/phone";

/// Whether `text` is a token as issued: 64 lowercase hex digits.
pub fn is_token(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn a_token_registers_one_client(db: TestDb) {
    let store = &db.store;
    let server = Server::plain(store.clone()).await;

    let issued = server.admin(Method::POST, "/admin/v1/tokens").await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let token = issued.body.trim_end();
    assert!(is_token(token), "{token:?}");
    assert_eq!(db.rows("registration_tokens").await, 1);
    // Stored hashed, valid for the configured lifetime.
    let (hash, expires_at): (Vec<u8>, i64) =
        sqlx::query_as("SELECT token_hash, expires_at FROM registration_tokens")
            .fetch_one(db.inspector())
            .await
            .unwrap();
    let expected = token_hash(&server.ctx, token.as_bytes()).unwrap();
    assert_eq!(hash, expected);
    assert_ne!(hash, token.as_bytes());
    let ttl = expires_at - Timestamp::now().unix_secs() as i64;
    let configured = TOKEN_TTL.as_secs() as i64;
    assert!((configured - 60..=configured).contains(&ttl), "ttl {ttl}");

    // Two tokens are different.
    let other = server.admin(Method::POST, "/admin/v1/tokens").await;
    assert_ne!(other.body.trim_end(), token);

    // The token registers dave, once.
    let dave = Client::new(DAVE);
    store
        .register_client_with_token(&expected, DAVE, dave.signer.public(), Timestamp::now())
        .await
        .unwrap();
    let erin = Client::new(ERIN);
    let reused = store
        .register_client_with_token(&expected, ERIN, erin.signer.public(), Timestamp::now())
        .await;
    assert!(
        matches!(reused, Err(StorageError::InvalidToken)),
        "{reused:?}"
    );
    assert!(store.client(ERIN).await.unwrap().is_none());

    // Only POST issues tokens.
    let get = server.admin(Method::GET, "/admin/v1/tokens").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(db.rows("registration_tokens").await, 1, "the unused one");

    // The status report.
    let status = server.admin(Method::GET, "/admin/v1/status").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let report: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(report["domain"], crate::common::DOMAIN);
    assert_eq!(report["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["registered_clients"], 1);
    assert_eq!(report["groups"], 0);
    assert_eq!(report["cached_groups"], 0);
    assert_eq!(report["outbox_depth"], 0);
    assert_eq!(report["database"], store.backend().name());

    server.stop().await;
}

on_both_backends!(a_token_registers_one_client);
