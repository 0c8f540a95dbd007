//! Live push over the network: the real `DsService` behind TLS 1.3, on
//! SQLite and PostgreSQL, with real openmls clients. Listeners open
//! `/mimi/v1/push` as an HTTP/1.1 WebSocket upgrade or an HTTP/2 extended
//! CONNECT, subscribe with a signed frame and receive every entry as it is
//! stored, in order and without gaps: live, across a reconnect, from another
//! DS process sharing the database, and up to a clean close at shutdown. Bad
//! first frames get typed refusals and change nothing.

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

#[path = "../queue/qs.rs"]
#[allow(dead_code)]
mod qs;

#[path = "../queue/world.rs"]
#[allow(dead_code)]
mod world;

mod ws;

mod lifecycle;
mod live;
mod reconnect;
mod refusals;
