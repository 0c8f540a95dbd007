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
//! - Inviting a user adds all of its clients: their key packages come
//!   from the user's home DS by `ds_user_key_packages` (spec §8.18, which
//!   this implementation adds to version 1); inviting by client id is kept.
//! - A client whose state of a group is lost rejoins by external commit
//!   ([`Client::rejoin`]) under its intact registration, replacing its old
//!   leaf; a device that lost its key too comes back as a new device.
//! - One state file per client holds both the openmls storage and the
//!   SDK's positions, written atomically, so they never disagree.
//!
//! # Example
//!
//! Alice of `ds-a.example` creates a group, invites Bob of `ds-b.example`
//! (every device of his) and writes to him, then reads what comes back:
//!
//! ```no_run
//! use ds_client_sdk::{Client, ClientConfig, Event, UserId};
//!
//! # async fn chat() -> ds_client_sdk::Result<()> {
//! let alice = UserId::new("alice@ds-a.example").expect("a user id");
//! let mut config = ClientConfig::new(alice, "laptop", "/var/lib/chat/alice-laptop")?;
//! config.trust_roots = vec!["ca.pem".into()]; // empty: the system's roots
//! let client = Client::open(config).await?; // registers on first use
//!
//! let group = client.create_group("lunch").await?; // owned by ds-a.example
//! let bob = UserId::new("bob@ds-b.example").expect("a user id");
//! client.invite_users(&group, &[bob]).await?;
//! client.send(&group, b"noon at the usual place?").await?;
//!
//! loop {
//!     match client.next_event().await? {
//!         Event::Message { group, sender, body } => {
//!             println!("#{group} <{}> {}", sender.user(), String::from_utf8_lossy(&body));
//!         }
//!         other => println!("{other:?}"),
//!     }
//! }
//! # }
//! ```
//!
//! It must not serve anything, hold a database, or decide what the DS
//! decides: it is a client, and trusts the DS only for ordering and
//! delivery (every message is checked by openmls).

mod client;
mod config;
#[cfg(feature = "conformance")]
mod craft;
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
