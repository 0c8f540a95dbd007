//! The running delivery service (`mimi-ds`): TLS listener with HTTP/2 and
//! HTTP/1.1, request routing into `ds-core`, storage (SQLite / PostgreSQL),
//! client queues and live push, key-package directory, authentication, rate
//! limits, admin endpoints, federation and graceful shutdown.
//!
//! [`storage`] is the database layer every request handler writes through;
//! [`service`] answers DS, queue and fan-out requests through the ds-core
//! engine; [`http`] is the transport (HTTPS listener handing decoded requests
//! to an [`http::DsEndpoint`], admin listener); [`federation`] delivers the
//! outbox to other domains; [`push`] wakes live connections; [`tls`],
//! [`config`], [`telemetry`] and [`app`] (both listeners and the background
//! tasks with graceful shutdown) complete it. This crate must not contain
//! protocol rules — those live in `ds-core`; storage keeps bytes and enforces
//! only ordering, atomicity and the delivery bookkeeping.

pub mod app;
pub mod config;
pub mod federation;
pub mod http;
pub mod push;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod tls;
