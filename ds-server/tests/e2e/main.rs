//! End to end through the network: the real `App` serving the real
//! `DsService` over TLS 1.3 + HTTP/2, backed by real storage (SQLite and
//! PostgreSQL), driven by real openmls clients that encode `DSRequest`s and
//! decode `DSResponse`s.

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

#[path = "../admin/server.rs"]
#[allow(dead_code)]
mod server;

#[path = "../queue/qs.rs"]
#[allow(dead_code)]
mod qs;

#[path = "../directory/packages.rs"]
#[allow(dead_code)]
mod packages;

mod scene;

mod conversation;
mod lifecycle;
mod refusals;
