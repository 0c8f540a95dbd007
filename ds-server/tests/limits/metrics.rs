//! `/metrics` after real traffic: protocol requests by operation and result,
//! their latency, errors by code, sync volume, rate-limit refusals, what
//! housekeeping purged, and the storage gauges.

use std::time::Duration;

use ds_core::wire::{DsAuthData, DsRequest, DsRequestBody, ProtocolVersion, QsResponseBody};
use ds_server::http::Limits;
use ds_server::service::{HousekeepingOptions, ServiceOptions};
use ds_server::storage::{AppendMessage, Timestamp};
use http::StatusCode;

use crate::client::H2;
use crate::qs::{positions, register_body, signed, sync_body};
use crate::server::{client_key, start_server};
use crate::support::{TestDb, create_group};
use crate::transport::admin_get;

const ALICE: &str = "alice@ds-a.example/laptop";
const ENTRIES: u8 = 4;
const GUARD: Duration = Duration::from_secs(20);

/// The value of the first sample of `series` (name and labels as rendered),
/// if present.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traffic_and_storage_appear_in_metrics() {
    let db = TestDb::sqlite().await;
    let options = ServiceOptions {
        housekeeping: HousekeepingOptions {
            interval: Duration::from_millis(100),
            ..HousekeepingOptions::default()
        },
        ..ServiceOptions::default()
    };
    let server = start_server(db.store.clone(), options, Limits::default()).await;
    let mut h2 = H2::open(&server).await;
    let key = client_key();
    let registered = h2
        .queue(&signed(ALICE, &key, register_body(key.public(), b"")))
        .await;
    assert_eq!(registered.qs_body(), QsResponseBody::Ok);
    let group = "talk@ds-a.example";
    create_group(&db.store, group, &[ALICE]).await;
    for i in 0..ENTRIES {
        let message = AppendMessage {
            group_id: group.to_owned(),
            expected_epoch: 1,
            sender: ALICE.to_owned(),
            message: vec![i],
            outbox: Vec::new(),
        };
        db.store
            .append_messages(&[message], Timestamp::now())
            .await
            .unwrap();
    }
    let page = h2
        .queue(&signed(ALICE, &key, sync_body(&positions(0, &[]), 0)))
        .await;
    match page.qs_body() {
        QsResponseBody::Page(page) => assert_eq!(page.group_entries.len(), usize::from(ENTRIES)),
        other => panic!("expected a page, got {other:?}"),
    }
    let stranger = client_key();
    let unknown = h2
        .queue(&signed(
            "mallory@ds-a.example/x",
            &stranger,
            sync_body(&positions(0, &[]), 0),
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    let allocated = h2
        .ds(&DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::RequestGroupId,
            auth: DsAuthData::Anonymous,
        })
        .await;
    assert_eq!(allocated.status, StatusCode::OK);

    // Gauges are process-wide and other tests' servers set them too; this
    // server samples every 100 ms, so its values show up.
    let sampled = async {
        loop {
            let (_, metrics) = admin_get(server.admin, "/metrics").await;
            if value(&metrics, "mimi_ds_registered_clients ").is_some_and(|v| v >= 1.0)
                && value(&metrics, "mimi_ds_groups ").is_some_and(|v| v >= 1.0)
            {
                return metrics;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let metrics = tokio::time::timeout(GUARD, sampled)
        .await
        .expect("the storage gauges never showed this server's data");

    let at_least = |series: &str, min: f64| {
        let found = value(&metrics, series);
        assert!(
            found.is_some_and(|v| v >= min),
            "{series} is {found:?}, expected at least {min}:\n{metrics}"
        );
    };
    at_least(
        r#"mimi_ds_requests_total{endpoint="queue",operation="sync",result="ok"}"#,
        1.0,
    );
    at_least(
        r#"mimi_ds_requests_total{endpoint="queue",operation="sync",result="UnknownClient"}"#,
        1.0,
    );
    at_least(
        r#"mimi_ds_requests_total{endpoint="queue",operation="register_client",result="ok"}"#,
        1.0,
    );
    at_least(
        r#"mimi_ds_requests_total{endpoint="ds",operation="request_group_id",result="ok"}"#,
        1.0,
    );
    at_least(r#"mimi_ds_errors_total{code="UnknownClient"}"#, 1.0);
    at_least(
        r#"mimi_ds_request_duration_seconds_bucket{endpoint="ds",operation="request_group_id",le="+Inf"}"#,
        1.0,
    );
    at_least(
        r#"mimi_queue_sync_entries_total{kind="group"}"#,
        f64::from(ENTRIES),
    );
    at_least(r#"mimi_ds_purged_total{what="nonces"}"#, 0.0);
    at_least("mimi_ds_cached_groups ", 0.0);
    at_least("mimi_ds_outbox_pending ", 0.0);
    at_least("mimi_ds_replica_groups ", 0.0);
    server.stop().await;
}
