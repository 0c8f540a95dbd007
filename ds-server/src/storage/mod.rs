//! Storage of the delivery service: groups, their logs, client queues, the
//! key-package directory, registration and the federation outbox, in SQLite
//! (embedded default, one WAL file) or PostgreSQL (shared by several DS
//! processes). [`Store`] is the only entry point; every method is one
//! transaction, and the schema is brought up to date by embedded migrations
//! when the store connects.
//!
//! # Delivery model
//!
//! A message is stored **once**: each group has an append-only log whose
//! entries carry a gap-free sequence number, and each of this DS's clients
//! has a membership interval per group (from the entry after the commit that
//! added it to the commit that removed it, inclusive), a cursor per group, and
//! a small personal inbox with its own gap-free numbers. Appending therefore
//! costs the same for a group of two and one of a thousand. [`Store::sync`]
//! returns everything after a client's positions; [`Store::ack`] moves them
//! forward; [`Store::purge`] drops what every member has passed. Fan-out to
//! other domains goes through the outbox, written in the same transaction.
//! A method returns only after its transaction committed, so a caller that
//! wakes waiting listeners after `Ok` never announces what is not yet stored.
//!
//! # Ordering and atomicity
//!
//! Per-group order comes from the database, never from process memory. Every
//! write to a group starts with a conditional update of its row
//! (`… WHERE epoch = ? AND revision = ?` for group changes, `… WHERE epoch = ?`
//! for application messages) that also allocates the log numbers from
//! `next_seq`. On PostgreSQL that update holds the row lock until commit:
//! a concurrent writer waits, re-checks the condition against the committed
//! row, and either proceeds with the next numbers or matches no row and gets
//! [`StorageError::EpochConflict`]. So two processes never both accept a
//! commit for one epoch, and numbers are assigned in commit order without
//! gaps (a rolled-back transaction gives its numbers back). On SQLite every
//! write transaction starts with `BEGIN IMMEDIATE` and is admitted one at a
//! time by an in-process queue, so writers are fully serialised. Rows are
//! always locked in one order (groups sorted by id, then inboxes sorted by
//! client), which keeps PostgreSQL transactions free of deadlocks.
//!
//! # SQL
//!
//! Statements are written once against sqlx's `Any` driver with `$n`
//! placeholders and run unchanged on both backends; only key-package claiming
//! adds `FOR UPDATE SKIP LOCKED` on PostgreSQL. The two migration directories
//! (`migrations/sqlite`, `migrations/postgres`) hold the same schema and differ
//! only in type names.

mod append;
mod append_queue;
mod backend;
mod clients;
mod connect;
mod cursors;
mod dead_letters;
mod error;
mod group_change;
mod group_ids;
mod groups;
mod inbox;
mod key_packages;
mod log;
mod memberships;
mod nonces;
mod numbers;
mod outbox;
mod outbox_leases;
mod placeholders;
mod purge;
mod replica;
mod roster;
mod store;
mod sync;
mod time;
mod tokens;

pub use append::{AppendMessage, AppendRejected};
pub use append_queue::{AppendFailed, AppendQueue, AppendResult};
pub use backend::Backend;
pub use clients::StoredClient;
pub use connect::StoreOptions;
pub use cursors::Cursors;
pub use dead_letters::DeadLetter;
pub use error::StorageError;
pub use group_change::{CommitResult, GroupChange};
pub use group_ids::GroupIdStatus;
pub use groups::{CreatedGroup, NewGroup, StoredGroupRow};
pub use inbox::NewInboxEntry;
pub use key_packages::StoredKeyPackage;
pub use log::NewLogEntry;
pub use outbox::{NewOutboxEntry, OutboxBacklog, OutboxEntry};
pub use purge::PurgeReport;
pub use replica::{ApplyOutcome, ReplicaEntry, ReplicaKind};
pub use store::Store;
pub use sync::{GroupEntry, InboxEntry, SyncPage};
pub use time::Timestamp;
