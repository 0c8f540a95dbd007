//! A refused queue request: the `DSError` answered and, when the refusal is
//! for the client's rate, the wait the transport sends as `Retry-After`.

use std::time::Duration;

use ds_core::wire::{DsError, QsResponseBody};

use crate::http::endpoint::QueueAnswer;
use crate::http::rate_limit;

/// Why a queue request was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueRefusal {
    /// The error answered.
    pub error: DsError,
    /// Set for a `RateLimited` refusal.
    pub retry_after: Option<Duration>,
}

impl QueueRefusal {
    /// The refusal of a request from a client over its rate.
    pub(crate) fn rate_limited(wait: Duration) -> Self {
        Self {
            error: rate_limit::refusal("this client", wait),
            retry_after: Some(wait),
        }
    }
}

impl From<DsError> for QueueRefusal {
    fn from(error: DsError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

impl From<QueueRefusal> for DsError {
    fn from(refusal: QueueRefusal) -> Self {
        refusal.error
    }
}

impl From<QueueRefusal> for QueueAnswer {
    fn from(refusal: QueueRefusal) -> Self {
        Self {
            body: QsResponseBody::Error(refusal.error),
            retry_after: refusal.retry_after,
        }
    }
}
