//! Policy knobs of the service that come from configuration.

use std::time::Duration;

/// Who may register as a client of this DS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationPolicy {
    /// Anyone may register any free client id of this domain (development).
    #[default]
    Open,
    /// A one-time token issued by the operator is required.
    Token,
}

/// Service-level settings (the transport's are in [`crate::http::Limits`]).
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Who may register.
    pub registration: RegistrationPolicy,
    /// How far a queue request's timestamp may be from the server's clock.
    pub freshness_window: Duration,
    /// Most entries of one sync page or push frame.
    pub max_page_entries: u32,
    /// Clients inactive this long are removed from their groups by the DS
    /// (`None`: never).
    pub inactivity_timeout: Option<Duration>,
    /// Pacing of the live-push channel.
    pub push: crate::push::PushOptions,
    /// Requests per authenticated client (queue requests and push
    /// subscriptions); over it, `RateLimited`.
    pub client_rate: crate::http::rate_limit::RateQuota,
    /// Purging of nonces, log entries and tokens.
    pub housekeeping: super::housekeeping::HousekeepingOptions,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            registration: RegistrationPolicy::Open,
            freshness_window: Duration::from_secs(300),
            max_page_entries: 1_000,
            inactivity_timeout: None,
            push: crate::push::PushOptions::default(),
            client_rate: crate::http::rate_limit::RateQuota::PER_CLIENT_DEFAULT,
            housekeeping: super::housekeeping::HousekeepingOptions::default(),
        }
    }
}
