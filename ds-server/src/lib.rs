//! The running delivery service (`mimi-ds`): TLS listener with HTTP/2 and
//! HTTP/1.1, request routing into `ds-core`, storage (SQLite / PostgreSQL),
//! client queues and live push, key-package directory, authentication, rate
//! limits, admin endpoints and graceful shutdown.
//!
//! Being built (issue 3). Present so far: [`storage`], the database layer
//! every request handler writes through; [`http`], the transport (HTTPS
//! listener handing decoded requests to an [`http::DsEndpoint`], admin
//! listener) with [`tls`], [`config`], [`telemetry`] and [`app`], which runs
//! both listeners with graceful shutdown. This crate must not contain protocol
//! rules — those live in `ds-core`; storage keeps bytes and enforces only
//! ordering, atomicity and the delivery bookkeeping.

pub mod app;
pub mod config;
pub mod federation;
pub mod http;
pub mod push;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod tls;
