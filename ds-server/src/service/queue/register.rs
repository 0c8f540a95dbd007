//! `register_client`: binds a client id of this domain to the key its later
//! queue and key-package requests are signed with.
//!
//! The request is signed with the key being registered, which proves the
//! requester holds its private half. Every check that can refuse comes before
//! the first write, and the nonce is recorded only once the registration
//! took effect (or is confirmed as a retry), so a refused registration
//! changes nothing — not the client table, not the tokens, not the nonces.

use ds_core::queue::verify_qs_request;
use ds_core::wire::{
    DsError, DsErrorCode, QsRequest, QsResponseBody, RegisterClientRequest,
    SIGNATURE_SCHEME_ED25519,
};

use super::super::DsService;
use super::super::errors::internal;
use super::super::options::RegistrationPolicy;
use super::super::tokens::token_hash;
use crate::storage::{StorageError, StoredClient, Timestamp};

/// Length of a raw Ed25519 public key.
const ED25519_KEY_LEN: usize = 32;

impl DsService {
    /// Registers `request.auth.client_id` with `register.signature_key`.
    /// Registering the same id with the same key again answers `Ok` (a safe
    /// retry); with another key it is `ClientIdInUse`.
    pub(super) async fn register_client(
        &self,
        request: &QsRequest,
        register: &RegisterClientRequest,
    ) -> Result<QsResponseBody, DsError> {
        let client_id = request.auth.client_id.as_str();
        self.check_local_client(&request.auth.client_id)?;
        let key = registrable_key(register)?;
        let now = Timestamp::now();
        verify_qs_request(
            request,
            key,
            now.unix_secs(),
            self.inner.options.freshness_window.as_secs(),
        )?;
        let store = &self.inner.store;
        if let Some(existing) = store.client(client_id).await.map_err(internal)? {
            return self.confirm_retry(request, &existing, key, now).await;
        }
        let registered = match self.inner.options.registration {
            RegistrationPolicy::Open => store.register_client(client_id, key, now).await,
            RegistrationPolicy::Token => {
                let hash = self.registration_token_hash(register)?;
                store
                    .register_client_with_token(&hash, client_id, key, now)
                    .await
            }
        };
        match registered {
            Ok(()) => {
                // A brand-new client cannot have used this nonce; recording
                // it makes a replay of this very request a `ReplayedRequest`.
                self.check_nonce(request, now).await?;
                tracing::info!(client = client_id, "client registered");
                Ok(QsResponseBody::Ok)
            }
            // Another request registered the id first: a retry or a clash.
            Err(StorageError::ClientExists(_)) => {
                let existing = store
                    .client(client_id)
                    .await
                    .map_err(internal)?
                    .ok_or_else(|| {
                        DsError::new(
                            DsErrorCode::InternalError,
                            "the client was deleted while it registered; try again",
                        )
                    })?;
                self.confirm_retry(request, &existing, key, now).await
            }
            Err(StorageError::InvalidToken) => Err(DsError::new(
                DsErrorCode::RegistrationRefused,
                "the registration token is unknown, already used or expired",
            )),
            Err(other) => Err(internal(other)),
        }
    }

    /// The answer to a registration of an id that is already registered:
    /// `Ok` for the same key (its nonce must still be new), `ClientIdInUse`
    /// for another key.
    async fn confirm_retry(
        &self,
        request: &QsRequest,
        existing: &StoredClient,
        key: &[u8],
        now: Timestamp,
    ) -> Result<QsResponseBody, DsError> {
        if existing.signature_key != key {
            return Err(DsError::new(
                DsErrorCode::ClientIdInUse,
                format!(
                    "{} is already registered with another key",
                    existing.client_id
                ),
            ));
        }
        self.check_nonce(request, now).await?;
        Ok(QsResponseBody::Ok)
    }

    /// What storage keeps of the request's token; an empty token is refused
    /// before storage is asked.
    fn registration_token_hash(
        &self,
        register: &RegisterClientRequest,
    ) -> Result<Vec<u8>, DsError> {
        let token = register.registration_token.as_slice();
        if token.is_empty() {
            return Err(DsError::new(
                DsErrorCode::RegistrationRefused,
                "this DS registers clients only with a registration token from its operator",
            ));
        }
        token_hash(&self.inner.ctx, token).ok_or_else(|| {
            DsError::new(
                DsErrorCode::InternalError,
                "the registration token could not be hashed; it was not used",
            )
        })
    }
}

/// The key to register, if it is one this DS accepts: Ed25519, 32 bytes.
fn registrable_key(register: &RegisterClientRequest) -> Result<&[u8], DsError> {
    if register.signature_scheme != SIGNATURE_SCHEME_ED25519 {
        return Err(DsError::new(
            DsErrorCode::RegistrationRefused,
            format!(
                "signature scheme 0x{:04x} is not accepted; register an Ed25519 (0x0807) key",
                register.signature_scheme
            ),
        ));
    }
    let key = register.signature_key.as_slice();
    if key.len() != ED25519_KEY_LEN {
        return Err(DsError::new(
            DsErrorCode::RegistrationRefused,
            format!(
                "an Ed25519 public key has {ED25519_KEY_LEN} bytes, not {}",
                key.len()
            ),
        ));
    }
    Ok(key)
}
