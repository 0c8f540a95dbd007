//! The seam between the transport and the protocol layer.

use std::future::Future;
use std::time::Duration;

use ds_core::wire::{
    DsError, DsErrorCode, DsFanoutRequest, DsFanoutResponseBody, DsRequest, DsResponseBody,
    QsRequest, QsResponseBody,
};

/// Handles decoded `DSRequest`s (`POST /mimi/v1/ds`).
///
/// The transport decodes the body, calls [`DsEndpoint::handle`] and sends
/// the returned body in a version-1 `DSResponse` with HTTP status 200 —
/// refusals included (spec §12). Implementations report every failure as
/// `DsResponseBody::Error`; they never see undecodable bodies.
pub trait DsEndpoint: Send + Sync + 'static {
    /// Answers one request.
    fn handle(&self, request: DsRequest) -> impl Future<Output = DsResponseBody> + Send;

    /// Answers one queue-service request (`POST /mimi/v1/queue`, spec §13).
    /// An endpoint without a queue service refuses with `UnsupportedOperation`.
    fn handle_queue(&self, request: QsRequest) -> impl Future<Output = QueueAnswer> + Send {
        let _ = request;
        std::future::ready(QueueAnswer::from(QsResponseBody::Error(DsError::new(
            DsErrorCode::UnsupportedOperation,
            "this endpoint has no queue service",
        ))))
    }

    /// Opens the live-push feed of the client that signed `request` (the
    /// first frame of `GET /mimi/v1/push`, body `subscribe`). An endpoint
    /// without live push refuses with `UnsupportedOperation`.
    fn subscribe(
        &self,
        request: QsRequest,
    ) -> impl Future<Output = Result<crate::push::Feed, DsError>> + Send {
        let _ = request;
        std::future::ready(Err(DsError::new(
            DsErrorCode::UnsupportedOperation,
            "this endpoint has no live push",
        )))
    }

    /// Answers a fan-out from another domain's DS (`POST /mimi/v1/fanout`,
    /// spec §11). An endpoint that does not federate refuses with
    /// `UnsupportedOperation`.
    fn handle_fanout(
        &self,
        request: DsFanoutRequest,
    ) -> impl Future<Output = DsFanoutResponseBody> + Send {
        let _ = request;
        std::future::ready(DsFanoutResponseBody::Error(DsError::new(
            DsErrorCode::UnsupportedOperation,
            "this endpoint does not accept fan-out from other domains",
        )))
    }

    /// Timing of push connections.
    fn push_options(&self) -> crate::push::PushOptions {
        crate::push::PushOptions::default()
    }
}

/// What a queue request is answered with: the `QSResponse` body and, for a
/// `RateLimited` refusal, how long the client must wait. The wait travels
/// beside the body so the transport can send `429` with `Retry-After`
/// without reading the refusal's text.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueAnswer {
    /// The body of the `QSResponse`.
    pub body: QsResponseBody,
    /// Set when the request was refused for its client's rate.
    pub retry_after: Option<Duration>,
}

impl From<QsResponseBody> for QueueAnswer {
    fn from(body: QsResponseBody) -> Self {
        Self {
            body,
            retry_after: None,
        }
    }
}
