//! `register_client` over the network under the open and the token policy:
//! proof of possession, key checks, one-time tokens, safe retries and ids
//! that are taken.

use std::time::Duration;

use ds_core::wire::{DsErrorCode, QsRequestBody, QsResponseBody, RegisterClientRequest};
use ds_server::service::tokens::{new_token, token_hash};
use ds_server::service::{RegistrationPolicy, ServiceOptions};
use ds_server::storage::Timestamp;
use openmls::prelude::SignatureScheme;
use openmls_basic_credential::SignatureKeyPair;

use crate::qs::{positions, qs, qs_ok, qs_refused, register_body, signed, sync_body};
use crate::support::{TestDb, on_both_backends};
use crate::world::{ds_ctx, start};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const CAROL: &str = "carol@ds-a.example/desk";
const DAVE: &str = "dave@ds-a.example/watch";

fn keys() -> SignatureKeyPair {
    SignatureKeyPair::new(SignatureScheme::ED25519).unwrap()
}

async fn key_of(db: &TestDb, id: &str) -> Option<Vec<u8>> {
    db.store.client(id).await.unwrap().map(|c| c.signature_key)
}

async fn open_registration(db: TestDb) {
    let (_ds, server) = start(&db, ServiceOptions::default()).await;
    let alice = keys();

    // Registration, then the key works for a sync.
    let request = signed(ALICE, &alice, register_body(alice.public(), b""));
    qs_ok(&server, &request).await;
    assert_eq!(key_of(&db, ALICE).await.as_deref(), Some(alice.public()));
    let synced = qs(
        &server,
        &signed(ALICE, &alice, sync_body(&positions(0, &[]), 0)),
    )
    .await;
    assert!(matches!(synced, QsResponseBody::Page(_)), "{synced:?}");

    // The same id and key again (a retry with a new nonce) is fine.
    qs_ok(
        &server,
        &signed(ALICE, &alice, register_body(alice.public(), b"")),
    )
    .await;
    assert_eq!(db.rows("clients").await, 1);

    // Another key for a taken id: refused, the key stays.
    let mallory = keys();
    let rows = db.all_rows().await;
    let taken = qs_refused(
        &server,
        &signed(ALICE, &mallory, register_body(mallory.public(), b"")),
    )
    .await;
    assert_eq!(taken.code, DsErrorCode::ClientIdInUse, "{taken}");
    assert_eq!(key_of(&db, ALICE).await.as_deref(), Some(alice.public()));
    assert_eq!(db.all_rows().await, rows);

    // Registering a key without holding it: the signature is by another key.
    let bob = keys();
    let forged = qs_refused(
        &server,
        &signed(BOB, &mallory, register_body(bob.public(), b"")),
    )
    .await;
    assert_eq!(
        forged.code,
        DsErrorCode::InvalidRequestSignature,
        "{forged}"
    );

    // Only 32-byte Ed25519 keys.
    let mut short_key = bob.public().to_vec();
    short_key.pop();
    let short = qs_refused(&server, &signed(BOB, &bob, register_body(&short_key, b""))).await;
    assert_eq!(short.code, DsErrorCode::RegistrationRefused, "{short}");
    let p256 = QsRequestBody::RegisterClient(RegisterClientRequest {
        signature_scheme: 0x0403,
        signature_key: ds_core::wire::Bytes::new(bob.public().to_vec()).unwrap(),
        registration_token: Default::default(),
    });
    let scheme = qs_refused(&server, &signed(BOB, &bob, p256)).await;
    assert_eq!(scheme.code, DsErrorCode::RegistrationRefused, "{scheme}");

    // Not a client id of this domain.
    let foreign = qs_refused(
        &server,
        &signed(
            "bob@ds-b.example/phone",
            &bob,
            register_body(bob.public(), b""),
        ),
    )
    .await;
    assert_eq!(foreign.code, DsErrorCode::UnknownClient, "{foreign}");

    // None of the refusals stored anything.
    assert_eq!(db.all_rows().await, rows);
    assert_eq!(key_of(&db, BOB).await, None);
    server.stop().await;
}

async fn token_registration(db: TestDb) {
    let options = ServiceOptions {
        registration: RegistrationPolicy::Token,
        ..ServiceOptions::default()
    };
    let (ds, server) = start(&db, options).await;
    let ctx = ds_ctx(&ds);
    let token = new_token(&ctx).unwrap();
    assert_eq!(token.len(), 64);
    let in_an_hour = Timestamp::now().saturating_add(Duration::from_secs(3600));
    let hash = token_hash(&ctx, token.as_bytes()).unwrap();
    assert!(db.store.create_token(&hash, in_an_hour).await.unwrap());
    let (alice, bob) = (keys(), keys());

    // Without a token, or with a wrong one: refused; the token stays valid.
    let rows = db.all_rows().await;
    for wrong in [&b""[..], b"not-the-token", &token.as_bytes()[1..]] {
        let refused = qs_refused(
            &server,
            &signed(ALICE, &alice, register_body(alice.public(), wrong)),
        )
        .await;
        assert_eq!(refused.code, DsErrorCode::RegistrationRefused, "{refused}");
    }
    assert_eq!(db.all_rows().await, rows);
    assert_eq!(db.rows("registration_tokens").await, 1);

    // With the token: registered, and the token is used up.
    let with_token = signed(
        ALICE,
        &alice,
        register_body(alice.public(), token.as_bytes()),
    );
    qs_ok(&server, &with_token).await;
    assert_eq!(key_of(&db, ALICE).await.as_deref(), Some(alice.public()));
    assert_eq!(db.rows("registration_tokens").await, 0);

    // A used token registers nobody else.
    let reused = qs_refused(
        &server,
        &signed(BOB, &bob, register_body(bob.public(), token.as_bytes())),
    )
    .await;
    assert_eq!(reused.code, DsErrorCode::RegistrationRefused, "{reused}");
    assert_eq!(key_of(&db, BOB).await, None);

    // The first client retrying (same key, used token) is answered Ok.
    qs_ok(
        &server,
        &signed(
            ALICE,
            &alice,
            register_body(alice.public(), token.as_bytes()),
        ),
    )
    .await;

    // A taken id with a valid token: refused, and the token is not spent.
    let second = new_token(&ctx).unwrap();
    let second_hash = token_hash(&ctx, second.as_bytes()).unwrap();
    assert!(
        db.store
            .create_token(&second_hash, in_an_hour)
            .await
            .unwrap()
    );
    let taken = qs_refused(
        &server,
        &signed(ALICE, &bob, register_body(bob.public(), second.as_bytes())),
    )
    .await;
    assert_eq!(taken.code, DsErrorCode::ClientIdInUse, "{taken}");
    assert_eq!(db.rows("registration_tokens").await, 1);
    assert_eq!(key_of(&db, ALICE).await.as_deref(), Some(alice.public()));

    // ... and still registers a new client.
    qs_ok(
        &server,
        &signed(CAROL, &bob, register_body(bob.public(), second.as_bytes())),
    )
    .await;
    assert_eq!(db.rows("registration_tokens").await, 0);

    // An expired token is refused.
    let expired = new_token(&ctx).unwrap();
    let an_hour_ago = Timestamp::now().saturating_sub(Duration::from_secs(3600));
    let expired_hash = token_hash(&ctx, expired.as_bytes()).unwrap();
    assert!(
        db.store
            .create_token(&expired_hash, an_hour_ago)
            .await
            .unwrap()
    );
    let dave = keys();
    let refused = qs_refused(
        &server,
        &signed(
            DAVE,
            &dave,
            register_body(dave.public(), expired.as_bytes()),
        ),
    )
    .await;
    assert_eq!(refused.code, DsErrorCode::RegistrationRefused, "{refused}");
    assert_eq!(key_of(&db, DAVE).await, None);
    assert_eq!(db.rows("registration_tokens").await, 1);
    server.stop().await;
}

on_both_backends!(open_registration, token_registration);
