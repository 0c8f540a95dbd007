//! Whole `mimi-ds` processes: two replicas racing on one PostgreSQL
//! database, and a `kill -9` under load followed by a restart. Clients are
//! real openmls members talking TLS 1.3 + HTTP/2 to the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../transport/support.rs"]
#[allow(dead_code)]
mod transport;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod net;
mod process;
mod qs;
mod setup;

mod crash;
mod race;
