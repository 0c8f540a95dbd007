//! Operations that are not about a group: the DS's keys and the key-package
//! directory of this DS's clients.

use ds_core::wire::{
    Bytes, ConnectionKeyPackagesRequest, DsError, DsErrorCode, DsKeyPackage, DsResponseBody,
    DsSigningKey, KeyPackages, KeyPackagesRequest, List, ShortBytes, SignaturePublicKeys, UserId,
    UserKeyPackagesRequest,
};

use super::DsService;
use super::errors::internal;
use crate::storage::Timestamp;

/// TLS SignatureScheme of Ed25519.
const ED25519: u16 = 0x0807;

impl DsService {
    /// `signature_public_key`: the DS's signing keys, current first, each
    /// with its key id; without a keyring, the external-sender key alone.
    pub(super) fn signature_public_key(&self) -> DsResponseBody {
        if let Some(keys) = self.published_keys() {
            return DsResponseBody::SignaturePublicKey(SignaturePublicKeys {
                keys: List::new(keys).unwrap_or_default(),
            });
        }
        let key = self.inner.ctx.ds_signature_key().as_slice().to_vec();
        let keys = Bytes::new(key)
            .ok()
            .and_then(|public_key| {
                List::new(vec![DsSigningKey {
                    key_id: ShortBytes::default(),
                    signature_scheme: ED25519,
                    public_key,
                    not_after: 0,
                }])
                .ok()
            })
            .unwrap_or_default();
        DsResponseBody::SignaturePublicKey(SignaturePublicKeys { keys })
    }

    /// `key_packages`: one key package per requested client of this DS.
    pub(super) async fn key_packages(
        &self,
        request: &KeyPackagesRequest,
    ) -> Result<DsResponseBody, DsError> {
        let local = self.inner.ctx.domain().as_str();
        let mut key_packages = Vec::with_capacity(request.client_ids.len());
        for client in request.client_ids.as_slice() {
            if client.domain() != local {
                return Err(DsError::new(
                    DsErrorCode::UnknownClient,
                    format!("{client} is not a client of {local}"),
                ));
            }
            let store = &self.inner.store;
            if store
                .client(client.as_str())
                .await
                .map_err(internal)?
                .is_none()
            {
                return Err(DsError::new(
                    DsErrorCode::UnknownClient,
                    format!("{client} is not registered here"),
                ));
            }
            let key_package = store
                .take_key_package(client.as_str(), false, Timestamp::now())
                .await
                .map_err(internal)?
                .ok_or_else(|| {
                    DsError::new(
                        DsErrorCode::NoKeyPackage,
                        format!("{client} has no key package to hand out"),
                    )
                })?;
            key_packages.push(served(key_package)?);
        }
        Ok(DsResponseBody::KeyPackages(served_list(key_packages)?))
    }

    /// `connection_key_packages`: one connection key package for each
    /// registered client of a user of this DS that has one (same rules as the
    /// regular pool: a package is consumed, the last-resort one is served and
    /// kept, an expired one is never served). Clients without one are left
    /// out; if none has one the request is refused with `NoKeyPackage`.
    pub(super) async fn connection_key_packages(
        &self,
        request: &ConnectionKeyPackagesRequest,
    ) -> Result<DsResponseBody, DsError> {
        let key_packages = self.per_client_of(&request.user_id, true).await?;
        Ok(DsResponseBody::ConnectionKeyPackages(key_packages))
    }

    /// `user_key_packages` (spec §8.18): the same for the regular pool, so
    /// that an inviter can add every client of a user to a regular group.
    pub(super) async fn user_key_packages(
        &self,
        request: &UserKeyPackagesRequest,
    ) -> Result<DsResponseBody, DsError> {
        let key_packages = self.per_client_of(&request.user_id, false).await?;
        Ok(DsResponseBody::KeyPackages(key_packages))
    }

    /// One key package of the `connection` pool or the regular one for each
    /// registered client of `user` that has one.
    async fn per_client_of(&self, user: &UserId, connection: bool) -> Result<KeyPackages, DsError> {
        let local = self.inner.ctx.domain().as_str();
        if user.domain() != local {
            return Err(DsError::new(
                DsErrorCode::UnknownClient,
                format!("{user} is not a user of {local}"),
            ));
        }
        let store = &self.inner.store;
        let clients = store
            .clients_of_user(user.as_str())
            .await
            .map_err(internal)?;
        if clients.is_empty() {
            return Err(DsError::new(
                DsErrorCode::UnknownClient,
                format!("{user} has no client registered here"),
            ));
        }
        let now = Timestamp::now();
        let mut key_packages = Vec::with_capacity(clients.len());
        for client in &clients {
            if let Some(key_package) = store
                .take_key_package(client, connection, now)
                .await
                .map_err(internal)?
            {
                key_packages.push(served(key_package)?);
            }
        }
        if key_packages.is_empty() {
            let pool = if connection { "connection " } else { "" };
            return Err(DsError::new(
                DsErrorCode::NoKeyPackage,
                format!("no client of {user} has a {pool}key package to hand out"),
            ));
        }
        served_list(key_packages)
    }
}

/// A stored key package as handed out.
fn served(key_package: Vec<u8>) -> Result<DsKeyPackage, DsError> {
    Bytes::new(key_package)
        .map(DsKeyPackage::MlsKeyPackage)
        .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
}

/// The answer's list of key packages.
fn served_list(key_packages: Vec<DsKeyPackage>) -> Result<KeyPackages, DsError> {
    List::new(key_packages)
        .map(|key_packages| KeyPackages { key_packages })
        .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
}
