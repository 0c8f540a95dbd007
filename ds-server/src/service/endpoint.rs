//! The service as the HTTP layer's `DSRequest` handler.

use ds_core::wire::{DsRequest, DsResponseBody, QsRequest, QsResponseBody};

use super::DsService;
use crate::http::DsEndpoint;

impl DsEndpoint for DsService {
    async fn handle(&self, request: DsRequest) -> DsResponseBody {
        // No transport-level client authentication yet: no requester.
        DsService::handle(self, &request, None).await
    }

    async fn handle_queue(&self, request: QsRequest) -> QsResponseBody {
        DsService::handle_queue(self, &request).await
    }
}
