//! The service as the HTTP layer's handler: `DSRequest`s, queue requests and
//! the opening of live-push feeds.

use ds_core::wire::{
    Domain, DsError, DsErrorCode, DsFanoutRequest, DsFanoutResponseBody, DsRequest, DsResponseBody,
    DsSigningKey, QsRequest, QsRequestBody,
};

use super::DsService;
use super::queue::{to_cursors, to_wire_page};
use super::receive::SenderKeys;
use crate::http::DsEndpoint;
use crate::http::endpoint::QueueAnswer;
use crate::push::{Feed, PushOptions};

impl DsEndpoint for DsService {
    async fn handle(&self, request: DsRequest) -> DsResponseBody {
        // HTTPS carries no client identity; a requester comes only from a
        // RegisteredClient signature in the request itself.
        DsService::handle(self, &request, None).await
    }

    async fn handle_queue(&self, request: QsRequest) -> QueueAnswer {
        DsService::answer_queue(self, &request).await
    }

    async fn subscribe(&self, request: QsRequest) -> Result<Feed, DsError> {
        DsService::subscribe(self, &request).await
    }

    async fn handle_fanout(&self, request: DsFanoutRequest) -> DsFanoutResponseBody {
        self.receive_fanout(&request, &PeerSenderKeys(self)).await
    }

    fn push_options(&self) -> PushOptions {
        self.inner.options.push
    }
}

/// A sender's keys from the service's peer-key cache, fetched over HTTPS
/// from the sender's DS when missing or when `key_id` is unknown.
struct PeerSenderKeys<'a>(&'a DsService);

impl SenderKeys for PeerSenderKeys<'_> {
    async fn keys(&self, domain: &Domain, key_id: &[u8]) -> Result<Vec<DsSigningKey>, DsError> {
        self.0.keys_with(domain, key_id).await
    }
}

impl DsService {
    /// Opens the live-push feed of the client that signed `request`, a
    /// `subscribe` authenticated like every queue request (registered key,
    /// freshness, rate, unused nonce). The feed is registered for wake-ups before
    /// its first read, so nothing committed meanwhile goes unannounced.
    pub async fn subscribe(&self, request: &QsRequest) -> Result<Feed, DsError> {
        if !request.version.is_supported() {
            return Err(DsError::new(
                DsErrorCode::UnsupportedVersion,
                format!("unsupported protocol version {}", request.version.0),
            ));
        }
        // Checked before authentication, so the refusal records no nonce.
        let QsRequestBody::Subscribe(subscribe) = &request.body else {
            return Err(DsError::new(
                DsErrorCode::UnsupportedOperation,
                format!(
                    "the push channel's first frame must be subscribe, not {}",
                    request.body.name()
                ),
            ));
        };
        let client = self.authenticate(request).await?;
        let subscription = self.inner.notifier.subscribe(&request.auth.client_id);
        Ok(Feed::new(
            self.inner.store.clone(),
            client.client_id,
            to_cursors(&subscribe.after),
            self.page_limit(subscribe.max_entries),
            self.inner.options.push.poll_interval,
            subscription,
            to_wire_page,
        ))
    }
}
