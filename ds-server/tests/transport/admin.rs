//! The admin listener: health, readiness and metrics.

use ds_server::http::Limits;
use http::StatusCode;

use crate::support::{
    Proto, TestServer, TransportDouble, admin_get, ds_post, send, signature_key_request,
};

#[tokio::test]
async fn healthz_and_readyz_answer_200_while_serving() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    assert_eq!(admin_get(server.admin, "/healthz").await.0, StatusCode::OK);
    assert_eq!(admin_get(server.admin, "/readyz").await.0, StatusCode::OK);
    assert_eq!(
        admin_get(server.admin, "/nope").await.0,
        StatusCode::NOT_FOUND
    );
    server.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let answer = send(&server, Proto::H2, ds_post(signature_key_request())).await;
    assert_eq!(answer.status, StatusCode::OK);
    let (status, text) = admin_get(server.admin, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let counter = text
        .lines()
        .find(|l| {
            l.starts_with("mimi_http_requests_total{")
                && l.contains("route=\"ds\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no request counter in:\n{text}"));
    let value: f64 = counter.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 1.0);
    assert!(
        text.contains("mimi_http_request_duration_seconds_bucket"),
        "latency histogram missing:\n{text}"
    );
    server.stop().await;
}
