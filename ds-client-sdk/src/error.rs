//! What can go wrong, typed so the application can tell what happened and
//! whether trying again may help ([`Error::is_retryable`]).

use std::path::PathBuf;

use ds_core::wire::{DsError, DsErrorCode, GroupId};

/// Every failure of the SDK.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work (a malformed id, an unusable trust
    /// root or peer address). Fix the configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// A DS could not be reached or answered outside the protocol
    /// (connection, TLS, timeout, HTTP status). The request may or may not
    /// have taken effect; retrying is safe, the SDK reconciles on sync.
    #[error("transport: {0}")]
    Transport(#[from] ds_federation::PeerError),
    /// A DS refused the request with a protocol error; nothing changed there.
    #[error("{domain} refused {operation}: {error}")]
    Refused {
        /// The DS that answered.
        domain: String,
        /// The operation refused.
        operation: &'static str,
        /// Its answer.
        error: DsError,
    },
    /// A DS answered something the protocol does not allow for the request.
    #[error("{domain}: unexpected answer to {operation}: {detail}")]
    Protocol {
        /// The DS that answered.
        domain: String,
        /// The operation.
        operation: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// This client is not (or no longer) a member of the group.
    #[error("not a member of {0}")]
    NotAMember(GroupId),
    /// The named user or client is not in the group (remove), or already
    /// is (invite).
    #[error("membership: {0}")]
    Membership(String),
    /// The group moved on under a commit more often than the SDK retries
    /// (other members committing at the same time). Retrying helps.
    #[error("{0}: the group kept changing under the commit; try again")]
    Contended(GroupId),
    /// openmls refused to build or process something locally.
    #[error("MLS: {0}")]
    Mls(String),
    /// The state directory could not be read or written.
    #[error("state {path}: {detail}")]
    State {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The client was closed (its background task ended).
    #[error("the client is closed")]
    Closed,
}

impl Error {
    /// Whether sending the same call again may succeed: transport failures,
    /// contention, and refusals that describe a passing condition (rate
    /// limits, a stale clock window, a peer DS that was unavailable, a
    /// commit that raced another one).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) | Self::Contended(_) => true,
            Self::Refused { error, .. } => matches!(
                error.code,
                DsErrorCode::RateLimited
                    | DsErrorCode::InternalError
                    | DsErrorCode::PeerUnavailable
                    | DsErrorCode::StaleRequest
                    | DsErrorCode::ReplayedRequest
                    | DsErrorCode::WrongEpoch
            ),
            _ => false,
        }
    }

    /// The protocol error code, when a DS refused the request.
    pub fn code(&self) -> Option<DsErrorCode> {
        match self {
            Self::Refused { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// An openmls failure as an [`Error::Mls`].
    pub(crate) fn mls(what: &str, e: impl std::fmt::Display) -> Self {
        Self::Mls(format!("{what}: {e}"))
    }
}

/// Results of the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;
