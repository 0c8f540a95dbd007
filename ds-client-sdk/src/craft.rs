//! Requests built and signed as this client would build them, but not
//! sent: the conformance suite (`interop-tests`) alters and posts them to
//! check that a DS refuses what it must and stores nothing of it. Only
//! with the `conformance` feature; applications have no use for it.

use ds_core::group::CONNECTION_KEY_PACKAGE_EXTENSION;
use ds_core::queue::sign_qs_request;
use ds_core::wire::{
    Domain, DsRequest, DsRequestBody, DsResponseBody, GroupId, QsRequest, QsRequestBody,
    QsResponseBody,
};
use openmls::prelude::{
    Capabilities, Extension, ExtensionType, Extensions, KeyPackage, MlsMessageOut, UnknownExtension,
};
use tls_codec::Serialize as _;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::group::commit::Change;
use crate::identity::{CIPHERSUITE, Identity, nonce};

impl Client {
    /// A signed `ds_send_message` of `body` in `group`, not sent.
    pub async fn craft_message(&self, group: &GroupId, body: &[u8]) -> Result<DsRequest> {
        let mut inner = self.shared.inner.lock().await;
        Ok(inner.message_request(group, body)?.0)
    }

    /// A signed `ds_update_client` commit of `group`, not sent; the
    /// client's state of the group stays as it was.
    pub async fn craft_update(&self, group: &GroupId) -> Result<DsRequest> {
        self.craft_commit(group, &Change::Update).await
    }

    /// A signed `ds_add_users` commit adding `key_packages` (whatever they
    /// are), not sent; the client's state of the group stays as it was.
    pub async fn craft_add(
        &self,
        group: &GroupId,
        key_packages: Vec<KeyPackage>,
    ) -> Result<DsRequest> {
        self.craft_commit(group, &Change::Add(key_packages)).await
    }

    /// `body` signed by this client's key as the leaf at `sender_index`
    /// (its own, or any other to forge a sender).
    pub async fn sign_as_leaf(&self, body: DsRequestBody, sender_index: u32) -> Result<DsRequest> {
        self.shared
            .inner
            .lock()
            .await
            .member_request_at(body, sender_index)
    }

    /// This client's leaf index in `group`.
    pub async fn leaf_index(&self, group: &GroupId) -> Result<u32> {
        let inner = self.shared.inner.lock().await;
        Ok(inner.group(group)?.own_leaf_index().u32())
    }

    /// A new key package of this client, as it publishes them (vouched),
    /// marked as a connection key package (spec §8.3: KeyPackage extension
    /// `0xf0a1`) if `connection`; its private keys are kept, so a Welcome
    /// to it can be joined. The MLSMessage bytes, not published.
    pub async fn craft_key_package(&self, connection: bool) -> Result<Vec<u8>> {
        let inner = self.shared.inner.lock().await;
        let identity = &inner.identity;
        if !connection {
            return identity.key_package(&inner.provider, false);
        }
        let marker = ExtensionType::Unknown(CONNECTION_KEY_PACKAGE_EXTENSION);
        let capabilities = Identity::capabilities();
        let mut extensions: Vec<ExtensionType> = capabilities.extensions().to_vec();
        extensions.push(marker);
        let marker_extension = Extensions::single(Extension::Unknown(
            CONNECTION_KEY_PACKAGE_EXTENSION,
            UnknownExtension(Vec::new()),
        ))
        .map_err(|e| Error::mls("the connection marker", e))?;
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(Capabilities::new(None, None, Some(&extensions), None, None))
            .leaf_node_extensions(identity.leaf_extensions()?)
            .key_package_extensions(marker_extension)
            .build(
                CIPHERSUITE,
                &inner.provider,
                &identity.signer,
                identity.credential(),
            )
            .map_err(|e| Error::mls("building a connection key package", e))?;
        MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding a key package", e))
    }

    /// `body` as this client's queue request signed at `timestamp` (Unix
    /// seconds) with a fresh nonce.
    pub async fn sign_queue_request(
        &self,
        body: QsRequestBody,
        timestamp: u64,
    ) -> Result<QsRequest> {
        let inner = self.shared.inner.lock().await;
        let identity = &inner.identity;
        sign_qs_request(
            body,
            identity.id.clone(),
            timestamp,
            nonce(&inner.provider)?,
            &identity.signer,
        )
        .map_err(|e| Error::mls("signing a queue request", e))
    }

    /// Posts `request` to `domain`'s DS; a protocol refusal is
    /// [`Error::Refused`].
    pub async fn post_ds(&self, domain: &Domain, request: &DsRequest) -> Result<DsResponseBody> {
        let transport = self.shared.inner.lock().await.transport.clone();
        transport.ds(domain, request).await
    }

    /// Posts `request` to the home DS's queue endpoint; a protocol refusal
    /// is [`Error::Refused`].
    pub async fn post_queue(&self, request: &QsRequest) -> Result<QsResponseBody> {
        let transport = self.shared.inner.lock().await.transport.clone();
        transport.qs(request).await
    }

    async fn craft_commit(&self, group: &GroupId, change: &Change) -> Result<DsRequest> {
        let mut inner = self.shared.inner.lock().await;
        inner.settle_pending_commit(group).await?;
        let staged = inner.stage(group, change);
        inner.drop_pending_commit(group)?;
        Ok(staged?.0)
    }
}
