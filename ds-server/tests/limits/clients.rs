//! Per authenticated client: over its rate, a queue request is answered
//! `429` with `Retry-After` and a `RateLimited` `QSResponse`, its nonce is not
//! used (the very same request passes later), and another client from the
//! same address is not affected.

use std::time::Duration;

use ds_core::wire::{DsErrorCode, QsRequest, QsResponseBody};
use ds_server::http::Limits;
use ds_server::http::rate_limit::RateQuota;
use ds_server::service::ServiceOptions;
use http::StatusCode;
use openmls_basic_credential::SignatureKeyPair;

use crate::client::{H2, Reply};
use crate::qs::{positions, register_body, signed, sync_body};
use crate::server::{client_key, start_server};
use crate::support::{TestDb, on_both_backends};

on_both_backends!(a_client_over_its_rate_is_refused_and_another_is_not);

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

/// More attempts than the quota can ever admit in a row.
const ATTEMPTS: usize = 50;

async fn register(h2: &mut H2, id: &str, key: &SignatureKeyPair) {
    let answer = h2
        .queue(&signed(id, key, register_body(key.public(), b"")))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.qs_body(), QsResponseBody::Ok);
}

fn sync(id: &str, key: &SignatureKeyPair) -> QsRequest {
    signed(id, key, sync_body(&positions(0, &[]), 0))
}

fn is_page(answer: &Reply) -> bool {
    answer.status == StatusCode::OK && matches!(answer.qs_body(), QsResponseBody::Page(_))
}

async fn a_client_over_its_rate_is_refused_and_another_is_not(db: TestDb) {
    let limits = Limits {
        per_address: RateQuota::UNLIMITED,
        ..Limits::default()
    };
    let options = ServiceOptions {
        client_rate: RateQuota {
            per_second: 1,
            burst: 2,
        },
        ..ServiceOptions::default()
    };
    let server = start_server(db.store.clone(), options, limits).await;
    let mut h2 = H2::open(&server).await;
    let (alice, bob) = (client_key(), client_key());
    register(&mut h2, ALICE, &alice).await;
    register(&mut h2, BOB, &bob).await;

    let mut refused = None;
    for _ in 0..ATTEMPTS {
        let nonces = db.rows("request_nonces").await;
        let request = sync(ALICE, &alice);
        let answer = h2.queue(&request).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            refused = Some((request, answer, nonces));
            break;
        }
        assert!(is_page(&answer), "{answer:?}");
    }
    let (request, answer, nonces) = refused.expect("alice was never limited");
    assert!(answer.is_rate_limited(), "{answer:?}");
    match answer.qs_body() {
        QsResponseBody::Error(e) => {
            assert_eq!(e.code, DsErrorCode::RateLimited);
            assert!(e.detail().contains("retry after"), "{e}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(
        db.rows("request_nonces").await,
        nonces,
        "a limited request used its nonce"
    );
    let wait = answer.retry_after.unwrap_or(1);

    // Bob, on the same connection and address, is within his own rate.
    let bobs = h2.queue(&sync(BOB, &bob)).await;
    assert!(is_page(&bobs), "{bobs:?}");

    // The refused request itself passes once alice waited: it changed nothing.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = h2.queue(&request).await;
    assert!(is_page(&again), "{again:?}");
    assert_eq!(db.rows("request_nonces").await, nonces + 2);
    server.stop().await;
}
