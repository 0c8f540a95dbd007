//! The one error type of the storage layer.

/// Why a storage operation failed. Variants other than [`StorageError::Database`]
/// and [`StorageError::Migration`] are outcomes a caller is expected to handle
/// (turn into a typed protocol error); none of them leaves partial writes behind.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names neither `sqlite://` nor `postgres://` (or is `sqlite::memory:`,
    /// which a multi-connection pool cannot share). Only the scheme is echoed, so a
    /// password in the URL never reaches a log.
    #[error("unsupported database URL scheme {scheme:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl {
        /// What stood before the first `:` of the URL.
        scheme: String,
    },
    /// The group's epoch (or, for a group change, its state revision) is no longer
    /// the one the caller loaded: another request won the race. Nothing was written.
    #[error("group {group_id} moved on since it was loaded (epoch or revision conflict)")]
    EpochConflict {
        /// The contested group.
        group_id: String,
    },
    /// A fan-out carries a log entry under a number this DS already stores
    /// with other bytes: the owning DS contradicts itself. Nothing was written.
    #[error("group {group_id} already has another entry {seq}")]
    ConflictingEntry {
        /// The replica group.
        group_id: String,
        /// The contested sequence number.
        seq: u64,
    },
    /// No active group has this id (never created, or deleted).
    #[error("no active group {0}")]
    GroupNotFound(String),
    /// `create_group` was called for an id that is not in the reserved state.
    #[error("group id {0} is not reserved (allocate it first, and create it only once)")]
    GroupIdNotReserved(String),
    /// `allocate_group_id` was called for an id that was reserved or used before;
    /// group ids are never issued twice.
    #[error("group id {0} is already taken")]
    GroupIdTaken(String),
    /// `register_client` for a client id that is already registered.
    #[error("client {0} is already registered")]
    ClientExists(String),
    /// A registration token that does not exist, was used, or has expired.
    #[error("registration token is unknown, used or expired")]
    InvalidToken,
    /// The caller asked for something the storage invariants forbid (for example
    /// an epoch going backwards); a bug in the caller, not a race.
    #[error("invalid storage request: {0}")]
    InvalidRequest(&'static str),
    /// A number does not fit the database's signed 64-bit integers.
    #[error("{what} = {value} is out of the storable range")]
    OutOfRange {
        /// Which quantity.
        what: &'static str,
        /// The offending value.
        value: u64,
    },
    /// A stored value breaks an invariant the schema should guarantee.
    #[error("stored {what} is corrupt: {value}")]
    Corrupt {
        /// Which quantity.
        what: &'static str,
        /// What was found.
        value: String,
    },
    /// The database refused or failed (connection lost, disk full, …).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed at start.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Creating the SQLite file's directory failed.
    #[error("cannot create the database directory: {0}")]
    Io(#[from] std::io::Error),
}
