//! Becoming and staying reachable: registering the client's key at the
//! home DS (spec §13.3), fetching the home DS's voucher for it (§11.4), and
//! keeping a pool of vouched key packages published there (§13.5), with a
//! last-resort one so that the client can always be added.

use ds_core::wire::{
    Bytes, KeyPackageCountRequest, KeyPackageKind, KeyPackageUpload, List,
    PublishKeyPackagesRequest, QsRequestBody, QsResponseBody, RegisterClientRequest,
    SIGNATURE_SCHEME_ED25519, ShortBytes,
};

use crate::error::{Error, Result};
use crate::identity::now;
use crate::inner::Inner;
use crate::transport::Transport;

/// A voucher this close to its end is replaced (seconds).
const VOUCHER_RENEWAL: u64 = 7 * 24 * 3600;

impl Inner {
    /// Registers (once), fetches a voucher (when missing or about to end)
    /// and tops up the key packages. `token` is the registration token.
    pub async fn enrol(&mut self, token: Option<&str>) -> Result<()> {
        if !self.registered {
            self.register(token).await?;
        }
        let expiring = self
            .identity
            .voucher
            .as_ref()
            .is_none_or(|v| v.not_after < now().saturating_add(VOUCHER_RENEWAL));
        if expiring {
            self.fetch_voucher().await?;
            // Published key packages carry the old voucher: add a fresh
            // last-resort one so the newest voucher is served eventually.
            self.publish(0, true).await?;
        }
        self.top_up().await
    }

    /// `register_client` of the client's key (a retry with the same key is
    /// answered `qs_ok`, so this is safe to repeat after a crash).
    async fn register(&mut self, token: Option<&str>) -> Result<()> {
        let body = QsRequestBody::RegisterClient(RegisterClientRequest {
            signature_scheme: SIGNATURE_SCHEME_ED25519,
            signature_key: Bytes::new(self.identity.signer.public().to_vec())
                .map_err(|e| Error::mls("registered key", e))?,
            registration_token: ShortBytes::new(token.unwrap_or_default().as_bytes().to_vec())
                .map_err(|e| Error::Config(format!("registration token: {e}")))?,
        });
        let request = self.identity.qs_request(&self.provider, body)?;
        match self.transport.qs(&request).await? {
            QsResponseBody::Ok => {}
            other => {
                return Err(Transport::unexpected(
                    self.transport.home(),
                    "register_client",
                    other,
                ));
            }
        }
        self.registered = true;
        self.save()
    }

    /// `client_voucher`: the home DS's voucher for the registered key.
    async fn fetch_voucher(&mut self) -> Result<()> {
        let request = self
            .identity
            .qs_request(&self.provider, QsRequestBody::ClientVoucher)?;
        match self.transport.qs(&request).await? {
            QsResponseBody::Voucher(voucher) => {
                self.identity.voucher = Some(voucher);
                self.save()
            }
            other => Err(Transport::unexpected(
                self.transport.home(),
                "client_voucher",
                other,
            )),
        }
    }

    /// Publishes key packages until the regular pool is full again, when it
    /// fell below the low-water mark.
    pub async fn top_up(&mut self) -> Result<()> {
        let body = QsRequestBody::KeyPackageCount(KeyPackageCountRequest {
            kind: KeyPackageKind::Regular,
        });
        let request = self.identity.qs_request(&self.provider, body)?;
        let count = match self.transport.qs(&request).await? {
            QsResponseBody::KeyPackageCount(count) => count,
            other => {
                return Err(Transport::unexpected(
                    self.transport.home(),
                    "key_package_count",
                    other,
                ));
            }
        };
        if count >= self.tuning.key_package_low_water {
            return Ok(());
        }
        let missing = self.tuning.key_package_pool.saturating_sub(count);
        // The very first fill also publishes the last-resort package.
        self.publish(missing, count == 0).await
    }

    /// Makes `regular` key packages (and a last-resort one if asked), saves
    /// their private keys, then publishes them.
    async fn publish(&mut self, regular: u32, last_resort: bool) -> Result<()> {
        let mut uploads = Vec::new();
        for i in 0..regular + u32::from(last_resort) {
            let is_last_resort = last_resort && i == regular;
            let key_package = self.identity.key_package(&self.provider, is_last_resort)?;
            uploads.push(KeyPackageUpload {
                kind: KeyPackageKind::Regular,
                key_package: Bytes::new(key_package).map_err(|e| Error::mls("key package", e))?,
            });
        }
        if uploads.is_empty() {
            return Ok(());
        }
        // Saved first: a published package whose private key were lost
        // would make every Welcome for it unusable.
        self.save()?;
        let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
            key_packages: List::new(uploads).map_err(|e| Error::mls("key packages", e))?,
        });
        let request = self.identity.qs_request(&self.provider, body)?;
        match self.transport.qs(&request).await? {
            QsResponseBody::KeyPackageCount(_) => Ok(()),
            other => Err(Transport::unexpected(
                self.transport.home(),
                "publish_key_packages",
                other,
            )),
        }
    }
}
