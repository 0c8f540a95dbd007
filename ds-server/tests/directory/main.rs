//! The key-package directory end to end: clients register and publish key
//! packages over `POST /mimi/v1/queue`, others fetch them with
//! `ds_key_packages` / `ds_connection_key_packages` / `ds_user_key_packages` over `POST /mimi/v1/ds`,
//! all on the real `App` over TLS 1.3 + HTTP/2, backed by SQLite and by
//! PostgreSQL, with real openmls clients and key packages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../transport/support.rs"]
#[allow(dead_code)]
mod transport;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

#[path = "../e2e/net.rs"]
#[allow(dead_code)]
mod net;

mod fixture;
mod packages;
mod queue;

mod connection;
mod joining;
mod pools;
mod refusals;
mod users;
