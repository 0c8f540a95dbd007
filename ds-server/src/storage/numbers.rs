//! Conversions between the API's unsigned numbers and the databases' `BIGINT`.
//! Both backends store signed 64-bit integers; sequence numbers, epochs and times
//! stay far below 2^63, but a value from the network could not, so each crossing
//! is checked instead of cast.

use super::StorageError;

/// `value` as a database integer, or [`StorageError::OutOfRange`].
pub(super) fn to_db(value: u64, what: &'static str) -> Result<i64, StorageError> {
    i64::try_from(value).map_err(|_| StorageError::OutOfRange { what, value })
}

/// A database integer that must be non-negative, or [`StorageError::Corrupt`].
pub(super) fn from_db(value: i64, what: &'static str) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::Corrupt {
        what,
        value: value.to_string(),
    })
}

/// A collection length as a database integer.
pub(super) fn len_to_db(len: usize, what: &'static str) -> Result<i64, StorageError> {
    i64::try_from(len).map_err(|_| StorageError::OutOfRange {
        what,
        value: u64::try_from(len).unwrap_or(u64::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_beyond_i64_are_refused_not_wrapped() {
        assert_eq!(to_db(5, "x").unwrap(), 5);
        assert!(matches!(
            to_db(u64::MAX, "x"),
            Err(StorageError::OutOfRange {
                value: u64::MAX,
                ..
            })
        ));
        assert!(matches!(
            from_db(-1, "x"),
            Err(StorageError::Corrupt { .. })
        ));
        assert_eq!(from_db(i64::MAX, "x").unwrap(), i64::MAX as u64);
    }
}
