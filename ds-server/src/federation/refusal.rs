//! What a `fanout_error` from a destination means for the rows that were sent.
//!
//! A refusal either concerns the whole exchange (a stale timestamp, a key
//! the guest could not fetch yet, a misconfigured domain, a guest failure):
//! retrying the same rows later may succeed, and dropping them would lose
//! messages, so they are retried with backoff however long it takes (the
//! backlog gauges and the failure counter tell the operator). Or it
//! concerns one entry that will never be accepted (a recipient the guest no
//! longer knows, a number the guest holds with other content): those rows
//! are isolated by retrying one at a time, and the one refused alone is
//! moved to the dead letters so it stops blocking the destination.

use ds_core::wire::DsErrorCode;

/// How to go on after a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Keep the rows and retry after backoff.
    Retry,
    /// One entry is at fault: find it by sending one at a time, then drop it.
    Isolate,
}

/// The verdict for a refusal with `code`. Only refusals that name a
/// property of a single entry, checked after the request's signature, are
/// dropped; anything that could mean the whole destination is misconfigured
/// would otherwise drop the whole backlog entry by entry.
pub(crate) fn verdict(code: DsErrorCode) -> Verdict {
    match code {
        DsErrorCode::NotLocalRecipient | DsErrorCode::ConflictingEntry => Verdict::Isolate,
        _ => Verdict::Retry,
    }
}

/// The metric label and log name of a refusal.
pub(crate) fn label(code: DsErrorCode) -> String {
    format!("{code:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_entry_specific_refusals_drop_rows() {
        assert_eq!(verdict(DsErrorCode::NotLocalRecipient), Verdict::Isolate);
        assert_eq!(verdict(DsErrorCode::ConflictingEntry), Verdict::Isolate);
        for whole in [
            DsErrorCode::StaleRequest,
            DsErrorCode::UnknownSigningKey,
            DsErrorCode::InvalidDsSignature,
            DsErrorCode::PeerUnavailable,
            DsErrorCode::WrongDestination,
            DsErrorCode::NotOwningDomain,
            DsErrorCode::MalformedMessage,
            DsErrorCode::UnsupportedVersion,
            DsErrorCode::InternalError,
        ] {
            assert_eq!(verdict(whole), Verdict::Retry, "{whole:?}");
        }
        assert_eq!(label(DsErrorCode::NotLocalRecipient), "NotLocalRecipient");
    }
}
