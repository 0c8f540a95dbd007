//! Authentication of queue requests: the client is registered here, the
//! signature verifies under its registered key, the timestamp is fresh, the
//! client is within its request rate and the nonce was not used before. Only
//! then is the client touched as active.

use ds_core::queue::verify_qs_request;
use ds_core::wire::{ClientId, DsError, DsErrorCode, QsRequest, QsRequestBody};

use super::super::DsService;
use super::super::errors::internal;
use super::QueueRefusal;
use crate::http::metrics::record_rate_limited;
use crate::storage::{StoredClient, Timestamp};

impl DsService {
    /// The registration of `client_id`: a client of this domain that
    /// registered here, else `UnknownClient`.
    pub(crate) async fn registered_client(
        &self,
        client_id: &ClientId,
    ) -> Result<StoredClient, DsError> {
        self.check_local_client(client_id)?;
        self.inner
            .store
            .client(client_id.as_str())
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                DsError::new(
                    DsErrorCode::UnknownClient,
                    format!("{client_id} is not registered here"),
                )
            })
    }

    /// The registered client that signed `request`, after every check. A
    /// `register_client` request is checked by `register_client` instead,
    /// against the key it registers.
    ///
    /// The rate is checked once the signature verified (so nobody can spend
    /// another client's allowance) and before the nonce is recorded (so a
    /// limited request changes nothing and may be retried as it is).
    pub(crate) async fn authenticate(
        &self,
        request: &QsRequest,
    ) -> Result<StoredClient, QueueRefusal> {
        let client_id = &request.auth.client_id;
        self.check_local_client(client_id)?;
        if matches!(request.body, QsRequestBody::RegisterClient(_)) {
            return Err(DsError::new(
                DsErrorCode::UnsupportedOperation,
                "register_client is not authenticated by a registered key",
            )
            .into());
        }
        let client = self.registered_client(client_id).await?;
        let now = Timestamp::now();
        verify_qs_request(
            request,
            &client.signature_key,
            now.unix_secs(),
            self.inner.options.freshness_window.as_secs(),
        )?;
        self.admit_client(client_id)?;
        self.check_nonce(request, now).await?;
        Ok(client)
    }

    /// Counts a request of an authenticated client against its rate.
    fn admit_client(&self, client_id: &ClientId) -> Result<(), QueueRefusal> {
        self.inner
            .client_limit
            .check(client_id)
            .map_err(|wait| {
                tracing::debug!(client = %client_id, wait_ms = wait.as_millis(), "client over its rate");
                record_rate_limited("client");
                QueueRefusal::rate_limited(wait)
            })
    }

    /// Forgets clients whose rate state is back to full burst (housekeeping).
    pub(crate) fn shrink_client_limit(&self) {
        self.inner.client_limit.shrink();
    }

    /// Refuses client ids of other domains: a DS only serves its own clients.
    pub(crate) fn check_local_client(&self, client_id: &ClientId) -> Result<(), DsError> {
        let local = self.inner.ctx.domain().as_str();
        if client_id.domain() == local {
            Ok(())
        } else {
            Err(DsError::new(
                DsErrorCode::UnknownClient,
                format!("{client_id} is not a client of {local}"),
            ))
        }
    }

    /// Records the request's nonce; a nonce seen before is a replay.
    pub(crate) async fn check_nonce(
        &self,
        request: &QsRequest,
        now: Timestamp,
    ) -> Result<(), DsError> {
        self.check_client_nonce(&request.auth.client_id, request.auth.nonce.as_slice(), now)
            .await
    }

    /// Records `client_id`'s `nonce` (of a queue request or of a DS request
    /// with `RegisteredClient` auth: one nonce space per client) and notes
    /// the client active, in one storage transaction; a nonce seen before is
    /// a replay and changes nothing.
    pub(crate) async fn check_client_nonce(
        &self,
        client_id: &ClientId,
        nonce: &[u8],
        now: Timestamp,
    ) -> Result<(), DsError> {
        let fresh = self
            .inner
            .store
            .record_request(client_id.as_str(), nonce, now)
            .await
            .map_err(internal)?;
        if fresh {
            Ok(())
        } else {
            Err(DsError::new(
                DsErrorCode::ReplayedRequest,
                "this request's nonce was already used",
            ))
        }
    }
}
