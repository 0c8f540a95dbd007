//! What the servers say about themselves on their admin listeners: the
//! owning DS's outbox depth (`/admin/v1/status`) and counters of either
//! (`/metrics`, Prometheus text).

use std::net::SocketAddr;
use std::time::Duration;

use ds_server::http::probe;
use http::{Method, StatusCode};

/// Entries a guest DS stored from accepted fan-outs (not duplicates).
pub const APPLIED: (&str, &str) = ("mimi_ds_fanout_entries_total", r#"outcome="applied""#);
/// Entries the owning DS had acknowledged by a destination.
pub const SENT: (&str, &str) = ("mimi_ds_fanout_sent_entries_total", "destination=");
/// Fan-out batches the owning DS sent, by result.
pub const BATCHES: (&str, &str) = ("mimi_ds_fanout_batches_total", r#"result="ok""#);
/// Failed fan-out attempts.
pub const FAILURES: (&str, &str) = ("mimi_ds_fanout_failures_total", "destination=");

/// `GET path` on an admin listener; the body of a 200.
async fn get(admin: SocketAddr, path: &str) -> String {
    let answer = probe::request(
        &format!("http://{admin}"),
        Method::GET,
        path,
        Duration::from_secs(30),
    )
    .await
    .expect("admin request");
    assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    answer.body
}

/// The Prometheus text of `/metrics`.
pub async fn metrics(admin: SocketAddr) -> String {
    get(admin, "/metrics").await
}

/// The sum of the samples of counter `name` whose labels contain `label`
/// in a `/metrics` text (0 when there are none).
pub fn sample((name, label): (&str, &str), text: &str) -> f64 {
    let prefix = format!("{name}{{");
    text.lines()
        .filter(|line| line.starts_with(&prefix) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `sample` of a fresh `/metrics`.
pub async fn counter(admin: SocketAddr, which: (&str, &str)) -> f64 {
    sample(which, &metrics(admin).await)
}

/// Sum and count of histogram `name` (e.g. for its mean).
pub fn histogram(name: &str, text: &str) -> (f64, f64) {
    let value = |suffix: &str| -> f64 {
        let prefix = format!("{name}_{suffix}");
        text.lines()
            .filter(|line| line.starts_with(&prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    (value("sum"), value("count"))
}

/// Fan-outs waiting in the DS's outbox.
pub async fn outbox_depth(admin: SocketAddr) -> u64 {
    let body = get(admin, "/admin/v1/status").await;
    let status: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
    status["outbox_depth"]
        .as_u64()
        .unwrap_or_else(|| panic!("no outbox_depth in {status}"))
}
