//! The queue service (spec §13): client registration, sync and ack of group
//! logs and inboxes, key-package publication. Every request is authenticated
//! by [`DsService::authenticate`] before anything is read or written.

mod auth;
mod page;

use ds_core::wire::{DsError, QsRequest, QsResponseBody};

use super::DsService;

pub(crate) use page::{to_cursors, to_wire_page};

impl DsService {
    /// Answers one queue request.
    pub async fn handle_queue(&self, request: &QsRequest) -> QsResponseBody {
        match self.dispatch_queue(request).await {
            Ok(body) => body,
            Err(error) => QsResponseBody::Error(error),
        }
    }

    async fn dispatch_queue(&self, request: &QsRequest) -> Result<QsResponseBody, DsError> {
        let _client = self.authenticate(request).await?;
        Err(DsError::new(
            ds_core::wire::DsErrorCode::UnsupportedOperation,
            format!("{} is not implemented yet", request.body.name()),
        ))
    }
}
