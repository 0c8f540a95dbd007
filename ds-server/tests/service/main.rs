//! The DS request service with real openmls clients against real storage:
//! every scenario runs on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code)]
mod support;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

mod conversation;
mod fanout;
