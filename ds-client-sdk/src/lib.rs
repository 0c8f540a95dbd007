//! What applications embed: an openmls client of the MIMI DS protocol
//! (`spec/protocol.md`) that keeps its state on disk and hides the request
//! plumbing.
//!
//! A [`Client`] is one device of one user. [`Client::open`] restores it from
//! its directory or creates it: it registers its Ed25519 key at its home DS,
//! fetches the home DS's voucher for that key and keeps a pool of vouched
//! key packages published there. Group operations go straight to the
//! group's owning DS (the domain of the group id); the queue (sync, live
//! push, acknowledgements) is read from the home DS only. Everything that
//! arrives becomes one ordered stream of [`Event`]s, each delivered once,
//! across restarts.
//!
//! Protocol choices of this crate, beyond the spec:
//! - Each group's name travels in the GroupContext extension
//!   [`GROUP_NAME_EXTENSION`] (0xF1D6, private use, UTF-8 bytes), set by the
//!   creator, so joiners learn it from the Welcome. Every leaf lists 0xF1D5
//!   (voucher) and 0xF1D6 in its capabilities.
//! - Inviting takes client ids: version 1 of the protocol cannot list the
//!   clients of a user for a regular group.
//! - One state file per client holds both the openmls storage and the
//!   SDK's positions, written atomically, so they never disagree.
//!
//! It must not serve anything, hold a database, or decide what the DS
//! decides: it is a client, and trusts the DS only for ordering and
//! delivery (every message is checked by openmls).

mod client;
mod config;
mod enrol;
mod error;
mod event;
mod group;
mod identity;
mod inner;
mod provider;
mod push;
mod receive;
mod state;
mod sync;
mod tls;
mod transport;
mod welcome;

pub use client::Client;
pub use config::{ClientConfig, Tuning};
pub use ds_core::wire::{ClientId, Domain, DsErrorCode, GroupId, UserId};
pub use error::{Error, Result};
pub use event::Event;
pub use group::roster::GroupSummary;
pub use identity::GROUP_NAME_EXTENSION;
