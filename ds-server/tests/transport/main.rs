//! The transport over real sockets: TLS 1.3 with ALPN, HTTP/2 and HTTP/1.1,
//! the admin listener, graceful shutdown, the configuration loader and the
//! `mimi-ds` binary itself.
//!
//! The DS endpoint used here is a transport-only test double (see
//! `support::TransportDouble`); the owner's service tests cover the real one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod support;

#[path = "../cluster/process.rs"]
#[allow(dead_code)]
mod process;

mod admin;
mod binary;
mod config;
mod routes;
mod shutdown;
