//! The queue service (spec §13): client registration, sync and ack of group
//! logs and inboxes, key-package publication. Every request but
//! `register_client` is authenticated by [`DsService::authenticate`] before
//! anything is read or written; `register_client` proves possession of the
//! key it registers instead (see `register.rs`).

mod auth;
mod key_packages;
mod page;
mod refusal;
mod register;
mod sync;

use ds_core::wire::{DsError, DsErrorCode, QsRequest, QsRequestBody, QsResponseBody};

use super::DsService;
use crate::http::endpoint::QueueAnswer;

pub(crate) use page::{to_cursors, to_wire_page};
pub(crate) use refusal::QueueRefusal;

impl DsService {
    /// Answers one queue request.
    pub async fn handle_queue(&self, request: &QsRequest) -> QsResponseBody {
        self.answer_queue(request).await.body
    }

    /// Answers one queue request, with the wait a rate-limited client must
    /// observe (the transport's `Retry-After`).
    pub async fn answer_queue(&self, request: &QsRequest) -> QueueAnswer {
        match self.dispatch_queue(request).await {
            Ok(body) => QueueAnswer::from(body),
            Err(refusal) => refusal.into(),
        }
    }

    async fn dispatch_queue(&self, request: &QsRequest) -> Result<QsResponseBody, QueueRefusal> {
        if !request.version.is_supported() {
            return Err(DsError::new(
                DsErrorCode::UnsupportedVersion,
                format!("unsupported protocol version {}", request.version.0),
            )
            .into());
        }
        match &request.body {
            QsRequestBody::RegisterClient(register) => {
                Ok(self.register_client(request, register).await?)
            }
            // Refused before authentication, so the refusal changes nothing
            // (not even the nonce table).
            QsRequestBody::Subscribe(_) => Err(DsError::new(
                DsErrorCode::UnsupportedOperation,
                "subscribe is only accepted as the first frame of the push channel \
                 (GET /mimi/v1/push); use sync over POST",
            )
            .into()),
            QsRequestBody::Sync(sync) => {
                let client = self.authenticate(request).await?;
                Ok(self.sync(&client, sync).await?)
            }
            QsRequestBody::Ack(ack) => {
                let client = self.authenticate(request).await?;
                Ok(self.ack(&client, ack).await?)
            }
            QsRequestBody::PublishKeyPackages(publish) => {
                let client = self.authenticate(request).await?;
                Ok(self.publish_key_packages(&client, publish).await?)
            }
            QsRequestBody::KeyPackageCount(count) => {
                let client = self.authenticate(request).await?;
                Ok(self.key_package_count(&client, count).await?)
            }
            QsRequestBody::ClientVoucher => {
                let client = self.authenticate(request).await?;
                let voucher = self.voucher_for(&request.auth.client_id, &client.signature_key)?;
                Ok(QsResponseBody::Voucher(voucher))
            }
        }
    }
}
