//! The requester of a DS request with `RegisteredClient` auth (spec §7.4):
//! a client of this DS, signing with the key it registered here, checked like
//! a queue request (spec §13.2) before anything else happens; or with
//! `VouchedClient` auth (spec §7.5): a client of another domain, signing
//! with the key its home DS vouches for.

use ds_core::group::{registered_client_auth, vouched_client_auth};
use ds_core::queue::verify_registered_client;
use ds_core::queue::verify_vouched_client;
use ds_core::wire::{ClientId, DsError, DsErrorCode, DsRequest};

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

    /// The client of another domain that signed `request` with the key its
    /// home DS vouches for, after every check of spec §7.5; `None` for a
    /// request with another auth type. The voucher's issuer keys are fetched
    /// (cached) first; the nonce is recorded like a registered client's.
    pub(super) async fn vouched_requester(
        &self,
        request: &DsRequest,
    ) -> Result<Option<ClientId>, DsError> {
        let Some(auth) = vouched_client_auth(request)? else {
            return Ok(None);
        };
        let own = self.inner.ctx.domain();
        if auth.voucher.client_id.domain() == own.as_str() {
            return Err(DsError::new(
                DsErrorCode::WrongAuthType,
                "clients of this DS authenticate with RegisteredClient",
            ));
        }
        let issuer_keys = self
            .keys_with(&auth.voucher.issuer, auth.voucher.key_id.as_slice())
            .await?;
        let now = Timestamp::now();
        let verified = verify_vouched_client(
            request,
            &issuer_keys,
            own,
            now.unix_secs(),
            self.inner.options.freshness_window.as_secs(),
        )?;
        self.check_client_nonce(verified, auth.nonce.as_slice(), now)
            .await?;
        Ok(Some(verified.clone()))
    }

    /// Fetches (or finds cached) the signing keys the vouchers of the new
    /// members of other domains name, so the engine can check them; a key id
    /// the cache lacks (the domain rotated) is refetched. A domain whose keys
    /// cannot be had refuses the request with `PeerUnavailable`: retrying
    /// later may succeed.
    pub(super) async fn fetch_voucher_keys(&self, request: &DsRequest) -> Result<(), DsError> {
        if self.peering().is_none() {
            return Ok(());
        }
        // One read of the commit: the (issuer, key id) of every new foreign
        // member's voucher. A member without a voucher is refused by the
        // engine before any key is looked at.
        let own = self.inner.ctx.domain();
        for (domain, key_id) in ds_core::group::voucher_key_ids(request, own) {
            // An id still unknown after the refetch is the engine's to refuse.
            match self.keys_with(&domain, &key_id).await {
                Err(e) if e.code == DsErrorCode::PeerUnavailable => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}
