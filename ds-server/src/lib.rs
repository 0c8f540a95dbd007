//! The running delivery service (`mimi-ds`): TLS listener with HTTP/2 and
//! HTTP/1.1, request routing into `ds-core`, storage (SQLite / PostgreSQL),
//! client queues and live push, key-package directory, authentication, rate
//! limits, admin endpoints and graceful shutdown.
//!
//! Not built yet: this crate is the subject of issue 3. It must not contain
//! protocol rules — those live in `ds-core`.
