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
