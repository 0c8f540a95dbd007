//! Names and recording of the transport's metrics (through the `metrics`
//! facade; the binary installs the Prometheus recorder, see
//! [`crate::telemetry::install_metrics_recorder`]): HTTP requests by route
//! and status, and protocol requests by operation and result.

use std::time::Duration;

use ds_core::wire::{DsErrorCode, QueuePage};

/// Counter of answered HTTP requests, labelled `route` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "mimi_http_requests_total";

/// Histogram of request handling time in seconds, labelled `route`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "mimi_http_request_duration_seconds";

/// Counter of DS requests whose body did not decode, labelled `code`.
pub const DS_UNDECODABLE_TOTAL: &str = "mimi_ds_undecodable_requests_total";

/// Counter of decoded protocol requests, labelled `endpoint` (`ds`,
/// `queue`), `operation` and `result` (`ok` or the error code's name).
pub const DS_REQUESTS_TOTAL: &str = "mimi_ds_requests_total";

/// Histogram of protocol request handling time in seconds, labelled
/// `endpoint` and `operation`.
pub const DS_REQUEST_DURATION_SECONDS: &str = "mimi_ds_request_duration_seconds";

/// Counter of error answers, labelled `code` (the error code's name).
pub const DS_ERRORS_TOTAL: &str = "mimi_ds_errors_total";

/// Counter of requests refused for their rate, labelled `scope`
/// (`address` or `client`).
pub const RATE_LIMITED_TOTAL: &str = "mimi_ds_rate_limited_total";

/// Counter of entries returned by `sync`, labelled `kind` (`inbox`, `group`).
pub const SYNC_ENTRIES_TOTAL: &str = "mimi_queue_sync_entries_total";

/// Records one answered request.
pub(crate) fn record_request(route: &'static str, status: u16, elapsed: Duration) {
    metrics::counter!(HTTP_REQUESTS_TOTAL, "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "route" => route)
        .record(elapsed.as_secs_f64());
}

/// Records a request body that did not decode.
pub(crate) fn record_undecodable(code: &'static str) {
    metrics::counter!(DS_UNDECODABLE_TOTAL, "code" => code).increment(1);
}

/// Records one decoded protocol request, its result (`None`: success) and
/// how long the protocol layer took.
pub(crate) fn record_operation(
    endpoint: &'static str,
    operation: &'static str,
    error: Option<DsErrorCode>,
    elapsed: Duration,
) {
    let result = result_name(error);
    metrics::counter!(DS_REQUESTS_TOTAL, "endpoint" => endpoint, "operation" => operation, "result" => result)
        .increment(1);
    metrics::histogram!(DS_REQUEST_DURATION_SECONDS, "endpoint" => endpoint, "operation" => operation)
        .record(elapsed.as_secs_f64());
    if let Some(code) = error {
        record_error(code);
    }
}

/// `ok`, or the name of the error code (the `result` of metrics and spans).
pub(crate) fn result_name(error: Option<DsErrorCode>) -> String {
    error.map_or_else(|| "ok".to_owned(), code_name)
}

/// Counts one error answer by its code.
pub(crate) fn record_error(code: DsErrorCode) {
    metrics::counter!(DS_ERRORS_TOTAL, "code" => code_name(code)).increment(1);
}

/// Counts one request refused for its rate (`scope`: `address`, `client`).
pub fn record_rate_limited(scope: &'static str) {
    metrics::counter!(RATE_LIMITED_TOTAL, "scope" => scope).increment(1);
}

/// Counts the entries of a page returned by `sync`.
pub(crate) fn record_sync_page(page: &QueuePage) {
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    metrics::counter!(SYNC_ENTRIES_TOTAL, "kind" => "inbox").increment(count(page.inbox.len()));
    metrics::counter!(SYNC_ENTRIES_TOTAL, "kind" => "group")
        .increment(count(page.group_entries.len()));
}

/// The label of an error code: its name, e.g. `RateLimited`.
fn code_name(code: DsErrorCode) -> String {
    format!("{code:?}")
}
