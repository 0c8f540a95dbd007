//! DS-to-DS federation (spec §11): the DS's own signing keys and their
//! rotation ([`keyring`]), signing fan-out requests and client vouchers
//! ([`sign`]), the authenticated HTTPS client to other DSes ([`client`]) and
//! the cache of other domains' published keys ([`keys`]).
//!
//! It must not decide protocol outcomes: what a fan-out or voucher means and
//! whether it verifies is ds-core's (`ds_core::federation`); storage, queues
//! and retry policy are ds-server's. It holds no database and serves nothing.

pub mod client;
pub mod keyring;
pub mod keys;
pub mod sign;

pub use client::{ClientError, PeerClient, PeerClientConfig, PeerError};
pub use keyring::{DsKey, DsKeyring, IdentityError};
pub use keys::PeerKeys;
pub use sign::{IssueError, issue_voucher, sign_fanout};
