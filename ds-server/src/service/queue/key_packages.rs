//! `publish_key_packages` and `key_package_count`: a client fills its pools in
//! the key-package directory and watches them run down.
//!
//! A publication is all or nothing: every package is validated (by
//! `ds-core`) before any is stored, so one bad package refuses the request
//! and changes nothing. The caller has already authenticated the client.

use ds_core::queue::validate_key_package;
use ds_core::wire::{
    ClientId, DsError, DsErrorCode, KeyPackageCountRequest, KeyPackageKind,
    PublishKeyPackagesRequest, QsResponseBody,
};

use super::super::DsService;
use super::super::errors::internal;
use crate::storage::{StoredClient, StoredKeyPackage, Timestamp};

impl DsService {
    /// Validates every package, then stores them all in one transaction.
    ///
    /// Answers `KeyPackageCount` with how many non-last-resort, unexpired
    /// packages the pool of the *first* upload's kind holds afterwards (a
    /// batch is normally of one kind; the client learns whether it has
    /// published enough without a second request).
    pub(super) async fn publish_key_packages(
        &self,
        client: &StoredClient,
        request: &PublishKeyPackagesRequest,
    ) -> Result<QsResponseBody, DsError> {
        let uploads = request.key_packages.as_slice();
        let Some(first) = uploads.first() else {
            return Err(DsError::new(
                DsErrorCode::InvalidKeyPackage,
                "the request holds no key packages",
            ));
        };
        let client_id = client_id(client)?;
        let now = Timestamp::now();
        let mut packages = Vec::with_capacity(uploads.len());
        for (index, upload) in uploads.iter().enumerate() {
            let bytes = upload.key_package.as_slice();
            let validated = validate_key_package(
                bytes,
                upload.kind,
                &client_id,
                &client.signature_key,
                now.unix_secs(),
            )
            .map_err(|e| at_index(index, e))?;
            packages.push(StoredKeyPackage {
                kp_ref: validated.kp_ref,
                key_package: bytes.to_vec(),
                connection: upload.kind == KeyPackageKind::Connection,
                last_resort: validated.last_resort,
                not_after: Timestamp::from_unix_secs(validated.not_after),
            });
        }
        check_one_last_resort_per_kind(&packages)?;
        let store = &self.inner.store;
        let stored = store
            .publish_key_packages(&client.client_id, &packages, now)
            .await
            .map_err(internal)?;
        tracing::debug!(
            client = %client.client_id,
            published = packages.len(),
            stored,
            "key packages published"
        );
        self.count_of(client, first.kind, now).await
    }

    /// How many non-last-resort, unexpired key packages of the kind are left.
    pub(super) async fn key_package_count(
        &self,
        client: &StoredClient,
        request: &KeyPackageCountRequest,
    ) -> Result<QsResponseBody, DsError> {
        self.count_of(client, request.kind, Timestamp::now()).await
    }

    async fn count_of(
        &self,
        client: &StoredClient,
        kind: KeyPackageKind,
        now: Timestamp,
    ) -> Result<QsResponseBody, DsError> {
        let count = self
            .inner
            .store
            .key_package_count(&client.client_id, kind == KeyPackageKind::Connection, now)
            .await
            .map_err(internal)?;
        Ok(QsResponseBody::KeyPackageCount(
            u32::try_from(count).unwrap_or(u32::MAX),
        ))
    }
}

/// The authenticated client's id as the protocol core wants it.
fn client_id(client: &StoredClient) -> Result<ClientId, DsError> {
    ClientId::new(&client.client_id).map_err(|e| {
        tracing::error!(error = %e, "a stored client id does not parse");
        DsError::new(
            DsErrorCode::InternalError,
            "the DS could not complete the request; it had no effect",
        )
    })
}

/// Names the refused package, so a client publishing a batch knows which.
fn at_index(index: usize, error: DsError) -> DsError {
    DsError::new(
        error.code,
        format!(
            "key package {index}: {}; nothing was stored",
            error.detail()
        ),
    )
}

/// A pool has one last-resort package; two in one batch would leave which
/// one is kept to the order of storing, so such a batch is refused.
fn check_one_last_resort_per_kind(packages: &[StoredKeyPackage]) -> Result<(), DsError> {
    for connection in [false, true] {
        let last_resort = packages
            .iter()
            .filter(|p| p.last_resort && p.connection == connection)
            .count();
        if last_resort > 1 {
            let pool = if connection { "connection" } else { "regular" };
            return Err(DsError::new(
                DsErrorCode::InvalidKeyPackage,
                format!(
                    "{last_resort} last-resort key packages for the {pool} pool; \
                     publish at most one per pool"
                ),
            ));
        }
    }
    Ok(())
}
