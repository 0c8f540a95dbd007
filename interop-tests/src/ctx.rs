//! What a scenario works with: the target's domains, fresh clients whose
//! names are unique to the run and the scenario, raw HTTPS requests, and
//! the operator.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ds_client_sdk::{Client, ClientConfig, ClientId, Domain, Tuning, UserId};
use ds_federation::{PeerClient, PeerClientConfig};

use crate::operator::Action;
use crate::scenario::{Context as _, Failure, Outcome};
use crate::target::Target;

/// A scenario's view of the target.
#[derive(Debug, Clone)]
pub struct Ctx {
    target: Arc<Target>,
    /// Unique to the run and the scenario: the local part of every user
    /// starts with it.
    prefix: String,
    /// Where this scenario's clients keep their state.
    dir: PathBuf,
}

impl Ctx {
    pub(crate) fn new(target: Arc<Target>, prefix: String, dir: PathBuf) -> Self {
        Self {
            target,
            prefix,
            dir,
        }
    }

    /// Domain A.
    pub fn a(&self) -> Domain {
        self.target.a.domain.clone()
    }

    /// Domain B.
    pub fn b(&self) -> Domain {
        self.target.b.domain.clone()
    }

    /// The user `name` of `domain`, unique to this run and scenario.
    pub fn user(&self, domain: &Domain, name: &str) -> UserId {
        let text = format!("{}-{name}@{domain}", self.prefix);
        // The prefix and names are lower-case letters, digits and dashes,
        // and the domain leaves room for them (target::parse_ds_url).
        UserId::new(&text).unwrap_or_else(|e| unreachable!("user id {text:?}: {e}"))
    }

    /// The client `user/device`.
    pub fn client_id(&self, user: &UserId, device: &str) -> Result<ClientId, Failure> {
        ClientId::from_parts(user, device).ctx(format!("client id {user}/{device}"))
    }

    /// Opens (registering it on first use) device `device` of user `name`
    /// of `domain`, with live push.
    pub async fn client(
        &self,
        domain: &Domain,
        name: &str,
        device: &str,
    ) -> Result<Client, Failure> {
        self.client_tuned(domain, name, device, |_| {}).await
    }

    /// As [`Ctx::client`], with its tuning changed by `tune`.
    pub async fn client_tuned(
        &self,
        domain: &Domain,
        name: &str,
        device: &str,
        tune: impl FnOnce(&mut Tuning),
    ) -> Result<Client, Failure> {
        let user = self.user(domain, name);
        let mut config = ClientConfig::new(user.clone(), device, self.state_dir(&user, device))
            .ctx(format!("configuring {user}/{device}"))?;
        config.trust_roots = self.target.trust_roots.clone();
        config.peers = self.target.peers();
        config.registration_token = self.target.take_token(domain);
        config.tuning = Tuning {
            key_package_pool: 3,
            key_package_low_water: 2,
            poll_interval: Duration::from_millis(500),
            request_timeout: Duration::from_secs(15),
            ..Tuning::default()
        };
        tune(&mut config.tuning);
        Client::open(config)
            .await
            .ctx(format!("opening {user}/{device}"))
    }

    /// The state directory of `user/device`.
    pub fn state_dir(&self, user: &UserId, device: &str) -> PathBuf {
        self.dir.join(format!(
            "{}-{device}",
            user.as_str().replace(['@', '.'], "_")
        ))
    }

    /// A raw HTTPS client of both deployments (HTTP/2, their CA).
    pub fn raw(&self) -> Result<PeerClient, Failure> {
        PeerClient::new(PeerClientConfig {
            trust_roots: self.target.trust_roots.clone(),
            peers: self.target.peers(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
        })
        .ctx("the raw HTTPS client")
    }

    /// The third domain whose key the suite signs fan-outs with.
    pub fn peer(&self) -> Result<&crate::target::PeerSigner, Failure> {
        self.target
            .peer
            .as_ref()
            .ok_or_else(|| Failure("no --peer-key was given".into()))
    }

    /// The address the suite dials for `domain`.
    pub fn address(&self, domain: &Domain) -> String {
        self.target
            .peers()
            .get(domain)
            .cloned()
            .unwrap_or_else(|| format!("{domain}:443"))
    }

    /// Waits until `domain`'s DS answers `signature_public_key` again
    /// (after a restart or a healed cut), up to a minute.
    pub async fn wait_until_serving(&self, domain: &Domain) -> Outcome {
        crate::raw::serving(&self.raw()?, domain, Duration::from_secs(60))
            .await
            .map_err(Failure)
    }

    /// Performs a disruption through the target's operator.
    pub async fn perform(&self, action: Action) -> Outcome {
        self.target
            .operator
            .perform(action)
            .await
            .map_err(|e| Failure(format!("{action:?}: {e}")))
    }
}
