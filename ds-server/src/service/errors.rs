//! How storage failures are answered: as `DSError`s that say what a client
//! can do, without leaking internals.

use ds_core::wire::{DsError, DsErrorCode};
use tracing::error;

use crate::storage::StorageError;

/// An unexpected storage failure: logged in full, answered as `InternalError`
/// (the request had no effect: every write is one transaction).
pub(crate) fn internal(e: StorageError) -> DsError {
    error!(error = %e, "storage failure");
    DsError::new(
        DsErrorCode::InternalError,
        "the DS could not complete the request; it had no effect",
    )
}

/// A failed read of a client's queue: a position beyond what storage can
/// represent is the client's mistake (`MalformedMessage`); anything else is
/// the DS's (`InternalError`).
pub(crate) fn read_refusal(e: StorageError) -> DsError {
    match e {
        StorageError::OutOfRange { what, value } => DsError::new(
            DsErrorCode::MalformedMessage,
            format!("{what} {value} is larger than any position (at most 2^63 - 1)"),
        ),
        other => internal(other),
    }
}
