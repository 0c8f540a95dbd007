//! How a client is set up: who it is, where its state lives, and how it
//! reaches DSs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ds_core::wire::{ClientId, Domain, UserId};

use crate::error::{Error, Result};

/// Everything [`Client::open`](crate::Client::open) needs.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The user's home domain; its DS is where the client registers and
    /// reads its queue. Must be the domain of `user`.
    pub home_domain: Domain,
    /// The user this client is a device of (`local@home_domain`).
    pub user: UserId,
    /// The device part of the client id (`user/device`).
    pub device: String,
    /// One directory per client; created if missing.
    pub state_dir: PathBuf,
    /// PEM files of the CAs DS certificates must chain to; empty means the
    /// system's roots.
    pub trust_roots: Vec<PathBuf>,
    /// `host:port` overriding `{domain}:443` for some domains (spec §11.6).
    pub peers: BTreeMap<Domain, String>,
    /// The one-time token of a DS under the `token` registration policy.
    pub registration_token: Option<String>,
    /// Tuning; [`Tuning::default`] suits interactive use.
    pub tuning: Tuning,
}

/// Knobs with sensible defaults.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Regular key packages kept published at the home DS.
    pub key_package_pool: u32,
    /// Top the pool up when fewer than this many are left.
    pub key_package_low_water: u32,
    /// How often commits are retried after losing a race (`WrongEpoch`).
    pub commit_attempts: u32,
    /// How long [`Client::next_event`](crate::Client::next_event) waits for
    /// live push before syncing by itself.
    pub poll_interval: Duration,
    /// Timeout of one HTTPS request.
    pub request_timeout: Duration,
    /// Whether to keep a live-push WebSocket open.
    pub live_push: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            key_package_pool: 20,
            key_package_low_water: 5,
            commit_attempts: 8,
            poll_interval: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            live_push: true,
        }
    }
}

impl ClientConfig {
    /// A configuration with default tuning, no extra trust roots or peers
    /// and no registration token.
    pub fn new(
        user: UserId,
        device: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> Result<Self> {
        let home_domain =
            Domain::new(user.domain()).map_err(|e| Error::Config(format!("user {user}: {e}")))?;
        Ok(Self {
            home_domain,
            user,
            device: device.into(),
            state_dir: state_dir.into(),
            trust_roots: Vec::new(),
            peers: BTreeMap::new(),
            registration_token: None,
            tuning: Tuning::default(),
        })
    }

    /// The client id this configuration names, checked against the home
    /// domain.
    pub fn client_id(&self) -> Result<ClientId> {
        if self.user.domain() != self.home_domain.as_str() {
            return Err(Error::Config(format!(
                "user {} is not of the home domain {}",
                self.user, self.home_domain
            )));
        }
        ClientId::from_parts(&self.user, &self.device)
            .map_err(|e| Error::Config(format!("device {:?}: {e}", self.device)))
    }
}
