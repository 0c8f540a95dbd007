//! The operator's side over the network: the real `App` with its admin
//! listener and a real `DsService` holding the DS's signing key, backed by
//! SQLite and PostgreSQL, driven by real openmls clients over TLS + HTTP/2 and
//! by the `mimi-ds admin` binary. DS-induced removal (admin deletion and the
//! inactivity sweeper), registration tokens and the status report.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../transport/support.rs"]
#[allow(dead_code)]
mod transport;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod group;
mod server;

mod cli;
mod config;
mod deletion;
mod inactivity;
mod tokens;
