//! Live push: the in-process side of `GET /mimi/v1/push` (spec §13, "Live
//! push").
//!
//! Push is an optimisation over the stored log, never a replacement. A
//! [`Feed`] reads everything it sends from storage with [`Store::sync`]
//! after its own positions; the [`Notifier`] only says *when* to read again.
//! The service wakes listeners strictly after a storage transaction
//! committed, and a feed subscribes before its first read, so an entry is
//! either seen by that read or announced afterwards; a periodic re-read
//! covers entries committed by another DS process sharing the database. A
//! feed never moves the stored cursors: clients acknowledge over the queue
//! endpoint.
//!
//! This module knows storage and the wire's page type, not HTTP; the
//! WebSocket transport is in `crate::http`.
//!
//! [`Store::sync`]: crate::storage::Store::sync

mod feed;
pub mod metrics;
mod notifier;
mod options;

pub use feed::{Feed, PageEncoder};
pub use notifier::{Notifier, Subscription};
pub use options::PushOptions;
