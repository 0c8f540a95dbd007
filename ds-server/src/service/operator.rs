//! What the operator asks of the running service besides removals: a status
//! report and one-time registration tokens.

use std::time::Duration;

use super::DsService;
use super::removal::OperatorError;
use super::tokens::{new_token, token_hash};
use crate::storage::Timestamp;

/// A snapshot of the DS for `GET /admin/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// This DS's domain.
    pub domain: String,
    /// The `mimi-ds` version.
    pub version: String,
    /// Live groups owned by this DS.
    pub groups: u64,
    /// Registered clients.
    pub registered_clients: u64,
    /// Groups this process keeps a cache slot for (their state in memory).
    pub cached_groups: usize,
    /// Fan-outs to other domains waiting for delivery.
    pub outbox_depth: u64,
    /// Other domains' groups of which this DS keeps a replica for its clients.
    pub replica_groups: u64,
    /// Fan-outs other domains refused for good (kept for the operator).
    pub dead_letters: u64,
    /// `sqlite` or `postgres`.
    pub database: String,
}

impl DsService {
    /// Counts what the DS holds, from storage and this process's cache.
    pub async fn status(&self) -> Result<Status, OperatorError> {
        let store = &self.inner.store;
        Ok(Status {
            domain: self.inner.ctx.domain().as_str().to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            groups: store.group_count().await?,
            registered_clients: store.client_count().await?,
            cached_groups: self.inner.cache.len(),
            outbox_depth: store.outbox_depth().await?,
            replica_groups: store.replica_group_count().await?,
            dead_letters: store.dead_letter_count().await?,
            database: store.backend().name().to_owned(),
        })
    }

    /// A fresh one-time registration token valid for `ttl`. Storage keeps
    /// only its hash; the text returned here is the only copy.
    pub async fn issue_token(&self, ttl: Duration) -> Result<String, OperatorError> {
        let ctx = &self.inner.ctx;
        let token = new_token(ctx).ok_or(OperatorError::Token("no randomness"))?;
        let hash =
            token_hash(ctx, token.as_bytes()).ok_or(OperatorError::Token("hashing failed"))?;
        let expires_at = Timestamp::now().saturating_add(ttl);
        if !self.inner.store.create_token(&hash, expires_at).await? {
            // 256 random bits colliding means the randomness is broken.
            return Err(OperatorError::Token("the random token was already stored"));
        }
        tracing::info!(
            expires_at = expires_at.unix_secs(),
            "registration token issued"
        );
        Ok(token)
    }
}
