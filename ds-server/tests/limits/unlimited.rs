//! The `[limits]` rate settings: their defaults, their bounds, and that 0
//! turns a limit off — requests far beyond a tiny quota all pass.

use std::collections::HashMap;

use ds_core::wire::{
    DsAuthData, DsRequest, DsRequestBody, DsResponse, DsResponseBody, ProtocolVersion,
};
use ds_server::config::{Config, ConfigError};
use ds_server::http::rate_limit::RateQuota;
use http::StatusCode;

use crate::client::H2;
use crate::qs::{positions, register_body, signed, sync_body};
use crate::server::{client_key, start_server};
use crate::support::TestDb;

/// Far more requests than a quota of one per second with a burst of two
/// (see `address.rs`, `clients.rs`) admits in a row.
const MANY: usize = 40;

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::load_with_env(None, Some(env))
}

#[test]
fn defaults_suit_a_deployment_without_a_proxy() {
    let config = load(&[]).unwrap();
    assert_eq!(
        config.limits.per_address,
        RateQuota {
            per_second: 2000,
            burst: 4000
        }
    );
    assert_eq!(
        config.client_rate,
        RateQuota {
            per_second: 200,
            burst: 400
        }
    );
    assert_eq!(config.service_options().client_rate, config.client_rate);
}

#[test]
fn rates_beyond_the_ceiling_are_refused() {
    let err = load(&[("MIMI_DS__LIMITS__BURST_PER_CLIENT", "10000001")]).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::TooLarge {
                field: "limits.burst_per_client",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zero_turns_both_limits_off() {
    let config = load(&[
        ("MIMI_DS__LIMITS__REQUESTS_PER_SECOND_PER_ADDRESS", "0"),
        ("MIMI_DS__LIMITS__BURST_PER_ADDRESS", "0"),
        ("MIMI_DS__LIMITS__REQUESTS_PER_SECOND_PER_CLIENT", "0"),
        ("MIMI_DS__LIMITS__BURST_PER_CLIENT", "0"),
    ])
    .unwrap();
    assert_eq!(config.limits.per_address, RateQuota::UNLIMITED);
    assert_eq!(config.client_rate, RateQuota::UNLIMITED);

    let db = TestDb::sqlite().await;
    let server = start_server(db.store.clone(), config.service_options(), config.limits).await;
    let mut h2 = H2::open(&server).await;
    let id = "alice@ds-a.example/laptop";
    let key = client_key();
    let register = h2
        .queue(&signed(id, &key, register_body(key.public(), b"")))
        .await;
    assert_eq!(register.status, StatusCode::OK);
    for _ in 0..MANY {
        let answer = h2
            .queue(&signed(id, &key, sync_body(&positions(0, &[]), 0)))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert!(matches!(
            answer.qs_body(),
            ds_core::wire::QsResponseBody::Page(_)
        ));
        let allocated = h2
            .ds(&DsRequest {
                version: ProtocolVersion::V1,
                body: DsRequestBody::RequestGroupId,
                auth: DsAuthData::Anonymous,
            })
            .await;
        assert_eq!(allocated.status, StatusCode::OK);
        let body = DsResponse::decode(&allocated.body).unwrap().body;
        assert!(matches!(body, DsResponseBody::GroupId(_)), "{body:?}");
    }
    assert_eq!(db.rows("groups").await, i64::try_from(MANY).unwrap());
    server.stop().await;
}
