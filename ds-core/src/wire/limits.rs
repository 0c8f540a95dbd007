//! Upper bounds of every variable-length field, checked while decoding.
//!
//! They are generous for the groups we design for (10,000 members) and small
//! enough that one request cannot make the DS hold unbounded memory. The HTTP
//! layer applies its own, usually smaller, body limits first.

/// An MLS message (commit, proposal, application message, Welcome, GroupInfo, KeyPackage).
pub const MAX_MLS_MESSAGE: usize = 16 << 20;
/// A TLS-encoded ratchet tree (about 5 MiB at 10,000 members).
pub const MAX_RATCHET_TREE: usize = 64 << 20;
/// A LeafNode.
pub const MAX_LEAF_NODE: usize = 64 << 10;
/// The TLS-encoded GroupInfo extensions of a PartialGroupInfo.
pub const MAX_GROUP_INFO_EXTENSIONS: usize = 16 << 20;
/// A signature of a PartialGroupInfo.
pub const MAX_SIGNATURE: usize = 1024;
/// Welcome messages in one AddUsers / AddClients request.
pub const MAX_WELCOMES: usize = 1_000;
/// Client ids in one KeyPackages request.
pub const MAX_KEY_PACKAGE_TARGETS: usize = 1_000;
/// Key packages in one response.
pub const MAX_KEY_PACKAGES: usize = 10_000;
/// Pending proposals returned with external-commit information.
pub const MAX_PENDING_PROPOSALS: usize = 10_000;
/// DS signing keys listed by `signature_public_key`.
pub const MAX_DS_KEYS: usize = 16;
/// A DS public key.
pub const MAX_PUBLIC_KEY: usize = 256;
/// Entries in one DSFanoutRequest.
pub const MAX_FANOUT_ENTRIES: usize = 10_000;
/// Recipients of one fan-out entry.
pub const MAX_FANOUT_RECIPIENTS: usize = 100_000;
/// Group positions in one sync, ack or subscribe request.
pub const MAX_QUEUE_CURSORS: usize = 100_000;
/// Entries of each kind in one sync page.
pub const MAX_SYNC_ENTRIES: usize = 10_000;
