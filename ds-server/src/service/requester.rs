//! The requester of a DS request with `RegisteredClient` auth (spec §7.4):
//! a client of this DS, signing with the key it registered here, checked like
//! a queue request (spec §13.2) before anything else happens.

use ds_core::group::registered_client_auth;
use ds_core::queue::verify_registered_client;
use ds_core::wire::{ClientId, DsError, DsRequest};

use super::DsService;
use crate::storage::Timestamp;

impl DsService {
    /// The client that signed `request` with its registered key, after every
    /// check; `None` for a request with another auth type.
    ///
    /// In order: the operation accepts `RegisteredClient` (`WrongAuthType`),
    /// the client is of this domain and registered here (`UnknownClient`),
    /// the nonce has 16 to 32 bytes (`MalformedMessage`), the timestamp is
    /// within the freshness window (`StaleRequest`), the signature verifies
    /// under the registered key (`InvalidRequestSignature`), and the nonce
    /// was not used before by this client, in DS or queue requests
    /// (`ReplayedRequest`). The nonce is recorded once checks 1-5 passed,
    /// even if the operation is then refused; the client counts as active.
    pub(super) async fn registered_requester(
        &self,
        request: &DsRequest,
    ) -> Result<Option<ClientId>, DsError> {
        let Some(auth) = registered_client_auth(request)? else {
            return Ok(None);
        };
        let client_id = &auth.client_id;
        let client = self.registered_client(client_id).await?;
        let now = Timestamp::now();
        let verified = verify_registered_client(
            request,
            &client.signature_key,
            now.unix_secs(),
            self.inner.options.freshness_window.as_secs(),
        )?;
        self.check_client_nonce(verified, auth.nonce.as_slice(), now)
            .await?;
        Ok(Some(verified.clone()))
    }
}
