//! Bad queue requests over the network: each is answered `200` with its
//! typed code, and the database is left as it was.

use ds_core::queue::qs_signature_content;
use ds_core::wire::{
    ClientId, DsErrorCode, ProtocolVersion, QsAuth, QsRequest, QsRequestBody, ShortBytes,
    SyncRequest,
};
use ds_server::service::ServiceOptions;
use ds_server::storage::Cursors;
use openmls::prelude::SignatureScheme;
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::signatures::Signer;

use crate::qs::{
    ack_body, now, positions, qs, qs_code, qs_ok, qs_raw, qs_refused, register_body, signed,
    signed_at, sync_body,
};
use crate::support::{TestDb, on_both_backends};
use crate::world::{Conversation, start};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

/// What a refusal must not change: every table's row count and the stored
/// rows of the clients and their cursors.
async fn snapshot(db: &TestDb) -> impl PartialEq + std::fmt::Debug {
    (
        db.all_rows().await,
        db.store.client(ALICE).await.unwrap(),
        db.store.client(BOB).await.unwrap(),
        db.store.acked_cursors(ALICE).await.unwrap(),
        db.store.acked_cursors(BOB).await.unwrap(),
    )
}

async fn bad_requests_change_nothing(db: TestDb) {
    let (ds, server) = start(&db, ServiceOptions::default()).await;
    let mut chat = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    chat.send(&server, 1, b"something to acknowledge").await;
    let gid = chat.group_id.as_str().to_owned();
    let end = db.store.log_len(&gid).await.unwrap();
    let alice = &chat.members[0].signer;
    let bob = &chat.members[1].signer;
    let ack_all = ack_body(&positions(1, &[(&gid, end)]));
    let before = snapshot(&db).await;

    // Garbage, a truncated request, and an unknown version.
    let body = qs_raw(&server, b"\x00\x01not a queue request at all".to_vec()).await;
    assert_eq!(
        qs_code(&body),
        Some(DsErrorCode::MalformedMessage),
        "{body:?}"
    );
    let mut truncated = signed(ALICE, alice, ack_all.clone()).encode().unwrap();
    truncated.truncate(truncated.len() - 10);
    let body = qs_raw(&server, truncated).await;
    assert_eq!(
        qs_code(&body),
        Some(DsErrorCode::MalformedMessage),
        "{body:?}"
    );
    let mut version_2 = signed(ALICE, alice, ack_all.clone()).encode().unwrap();
    version_2[..2].copy_from_slice(&2u16.to_be_bytes());
    let body = qs_raw(&server, version_2).await;
    assert_eq!(
        qs_code(&body),
        Some(DsErrorCode::UnsupportedVersion),
        "{body:?}"
    );
    let mut trailing = signed(ALICE, alice, ack_all.clone()).encode().unwrap();
    trailing.push(0);
    let body = qs_raw(&server, trailing).await;
    assert_eq!(
        qs_code(&body),
        Some(DsErrorCode::MalformedMessage),
        "{body:?}"
    );
    assert_eq!(snapshot(&db).await, before);

    // A forged signature: alice's id, signed by another key.
    let other = SignatureKeyPair::new(SignatureScheme::ED25519).unwrap();
    let forged = qs_refused(&server, &signed(ALICE, &other, ack_all.clone())).await;
    assert_eq!(
        forged.code,
        DsErrorCode::InvalidRequestSignature,
        "{forged}"
    );

    // Someone else's queue: bob signs a sync and an ack naming alice.
    for body in [sync_body(&positions(0, &[]), 0), ack_all.clone()] {
        let theft = qs_refused(&server, &signed(ALICE, bob, body)).await;
        assert_eq!(theft.code, DsErrorCode::InvalidRequestSignature, "{theft}");
    }

    // Stale: outside the 300 s window, in either direction (with a margin
    // for the clock ticking between signing and checking).
    for timestamp in [now() - 330, now() + 330] {
        let stale = qs_refused(
            &server,
            &signed_at(ALICE, alice, ack_all.clone(), timestamp),
        )
        .await;
        assert_eq!(stale.code, DsErrorCode::StaleRequest, "{stale}");
    }

    // Unknown clients: not registered, or of another domain.
    for id in ["carol@ds-a.example/phone", "alice@ds-b.example/laptop"] {
        let unknown = qs_refused(&server, &signed(id, alice, ack_all.clone())).await;
        assert_eq!(unknown.code, DsErrorCode::UnknownClient, "{id}: {unknown}");
    }

    // A nonce shorter than 16 bytes.
    let short = short_nonce_request(ALICE, alice, ack_all.clone());
    let refused = qs_refused(&server, &short).await;
    assert_eq!(refused.code, DsErrorCode::MalformedMessage, "{refused}");

    // Subscribe belongs to the push channel; refused before authentication.
    let subscribe = QsRequestBody::Subscribe(SyncRequest {
        after: positions(0, &[]),
        max_entries: 0,
    });
    let refused = qs_refused(&server, &signed(ALICE, alice, subscribe)).await;
    assert_eq!(refused.code, DsErrorCode::UnsupportedOperation, "{refused}");
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(
        db.store.acked_cursors(ALICE).await.unwrap(),
        Cursors::default()
    );

    // A replayed request: the first takes effect, the copy is refused.
    let ack = signed(ALICE, alice, ack_all.clone());
    qs_ok(&server, &ack).await;
    let acked = db.store.acked_cursors(ALICE).await.unwrap();
    assert_eq!(acked.groups.get(&gid), Some(&end));
    let after_first = snapshot(&db).await;
    let replayed = qs_refused(&server, &ack).await;
    assert_eq!(replayed.code, DsErrorCode::ReplayedRequest, "{replayed}");
    assert_eq!(snapshot(&db).await, after_first);

    // So is a replayed registration.
    let register = signed(BOB, bob, register_body(bob.public(), b""));
    qs_ok(&server, &register).await;
    let after_register = snapshot(&db).await;
    let replayed = qs_refused(&server, &register).await;
    assert_eq!(replayed.code, DsErrorCode::ReplayedRequest, "{replayed}");
    assert_eq!(snapshot(&db).await, after_register);

    // A position no database can hold is the client's mistake, not the DS's.
    let huge = qs(
        &server,
        &signed(BOB, bob, sync_body(&positions(u64::MAX, &[]), 0)),
    )
    .await;
    assert_eq!(
        qs_code(&huge),
        Some(DsErrorCode::MalformedMessage),
        "{huge:?}"
    );
    let huge_ack = qs(
        &server,
        &signed(BOB, bob, ack_body(&positions(0, &[(&gid, u64::MAX)]))),
    )
    .await;
    assert_eq!(
        qs_code(&huge_ack),
        Some(DsErrorCode::MalformedMessage),
        "{huge_ack:?}"
    );
    assert_eq!(
        db.store.acked_cursors(BOB).await.unwrap(),
        Cursors::default()
    );

    // The queue still works, also for a request made well inside the window.
    let page = qs(&server, &signed(BOB, bob, sync_body(&positions(0, &[]), 0))).await;
    assert!(qs_code(&page).is_none(), "{page:?}");
    let earlier = signed_at(ALICE, alice, sync_body(&positions(0, &[]), 0), now() - 200);
    let page = qs(&server, &earlier).await;
    assert!(qs_code(&page).is_none(), "{page:?}");
    server.stop().await;
}

/// A correctly signed request whose nonce is only 8 bytes (a client library
/// refuses to build one, so it is put together by hand).
fn short_nonce_request(id: &str, signer: &SignatureKeyPair, body: QsRequestBody) -> QsRequest {
    let client_id = ClientId::new(id).unwrap();
    let nonce = ShortBytes::new(vec![7; 8]).unwrap();
    let timestamp = now();
    let content =
        qs_signature_content(ProtocolVersion::V1, &body, &client_id, timestamp, &nonce).unwrap();
    let signature = ShortBytes::new(signer.sign(&content).unwrap()).unwrap();
    QsRequest {
        version: ProtocolVersion::V1,
        body,
        auth: QsAuth {
            client_id,
            timestamp,
            nonce,
            signature,
        },
    }
}

on_both_backends!(bad_requests_change_nothing);
