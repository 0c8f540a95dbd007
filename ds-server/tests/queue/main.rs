//! The queue service over the network: the real `DsService` behind TLS 1.3 +
//! HTTP/2, on SQLite and PostgreSQL, with real openmls clients. Registration
//! under both policies, a conversation through `POST /mimi/v1/ds` read back
//! page by page through `POST /mimi/v1/queue`, acknowledgements, and every
//! kind of bad input answered with its typed code and no change of state.

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

mod qs;
mod world;

mod config;
mod delivery;
mod http;
mod refusals;
mod registration;
