//! Production hardening over the network: rate limits per source address
//! and per authenticated client (429, `Retry-After`, a `RateLimited` body,
//! nothing stored), the metrics of protocol requests and storage, and the
//! housekeeping task purging nonces and acknowledged log entries — a real
//! `App` with TLS 1.3 + HTTP/2 on loopback over SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../transport/support.rs"]
#[allow(dead_code)]
mod transport;

#[path = "../queue/qs.rs"]
#[allow(dead_code)]
mod qs;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod client;
mod server;

mod address;
mod clients;
mod housekeeping;
mod metrics;
mod unlimited;
