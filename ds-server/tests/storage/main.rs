//! The storage layer against real databases: every scenario runs on SQLite and
//! on PostgreSQL (see `support` for how the databases are provided).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod support;

mod appends;
mod clients;
mod connecting;
mod group_changes;
mod group_ids;
mod key_packages;
mod outbox;
mod purging;
mod replica;
mod syncing;
