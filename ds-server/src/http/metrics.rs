//! Names and recording of the transport's metrics (through the `metrics`
//! facade; the binary installs the Prometheus recorder, see
//! [`crate::telemetry::install_metrics_recorder`]).

use std::time::Duration;

/// Counter of answered HTTP requests, labelled `route` and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "mimi_http_requests_total";

/// Histogram of request handling time in seconds, labelled `route`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "mimi_http_request_duration_seconds";

/// Counter of DS requests whose body did not decode, labelled `code`.
pub const DS_UNDECODABLE_TOTAL: &str = "mimi_ds_undecodable_requests_total";

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
