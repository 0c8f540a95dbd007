//! Requests to DSs over HTTPS: DS requests to any domain's DS (group
//! operations to the owning DS, key packages to the clients' home DS) and
//! queue requests to the home DS, through ds-federation's [`PeerClient`]
//! (HTTP/2, verified certificates for the domain, configured addresses).
//! A protocol refusal comes back as [`Error::Refused`].

use std::time::Duration;

use ds_core::wire::{
    Domain, DsRequest, DsResponse, DsResponseBody, QsRequest, QsResponse, QsResponseBody,
};
use ds_federation::{PeerClient, PeerClientConfig};

use crate::config::ClientConfig;
use crate::error::{Error, Result};

/// Where DS requests go.
pub const DS_PATH: &str = "/mimi/v1/ds";
/// Where queue requests go.
pub const QUEUE_PATH: &str = "/mimi/v1/queue";
/// Where live push opens.
pub const PUSH_PATH: &str = "/mimi/v1/push";

/// A client's way to every DS.
#[derive(Debug, Clone)]
pub struct Transport {
    peer: PeerClient,
    home: Domain,
}

impl Transport {
    /// A transport with `config`'s trust roots and peer addresses.
    pub fn new(config: &ClientConfig) -> Result<Self> {
        let peer = PeerClient::new(PeerClientConfig {
            trust_roots: config.trust_roots.clone(),
            peers: config.peers.clone(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: config.tuning.request_timeout,
        })
        .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            peer,
            home: config.home_domain.clone(),
        })
    }

    /// The home DS's domain.
    pub fn home(&self) -> &Domain {
        &self.home
    }

    /// Where `domain` is dialled (`host:port`).
    pub fn address(&self, domain: &Domain) -> String {
        self.peer.address(domain)
    }

    /// Sends `request` to `domain`'s DS; its answer unless it is an error.
    pub async fn ds(&self, domain: &Domain, request: &DsRequest) -> Result<DsResponseBody> {
        let operation = request.body.operation().name();
        let body = request.encode().map_err(|e| Error::Protocol {
            domain: domain.to_string(),
            operation,
            detail: format!("the request cannot be encoded: {e}"),
        })?;
        let answer = self.peer.post(domain, DS_PATH, body).await?;
        let response = DsResponse::decode(&answer).map_err(|e| Error::Protocol {
            domain: domain.to_string(),
            operation,
            detail: format!("undecodable DSResponse: {e}"),
        })?;
        match response.body {
            DsResponseBody::Error(error) => Err(Error::Refused {
                domain: domain.to_string(),
                operation,
                error,
            }),
            other => Ok(other),
        }
    }

    /// Sends a queue request to the home DS; its answer unless an error.
    pub async fn qs(&self, request: &QsRequest) -> Result<QsResponseBody> {
        let operation = request.body.name();
        let domain = &self.home;
        let body = request.encode().map_err(|e| Error::Protocol {
            domain: domain.to_string(),
            operation,
            detail: format!("the request cannot be encoded: {e}"),
        })?;
        let answer = self.peer.post(domain, QUEUE_PATH, body).await?;
        let response = QsResponse::decode(&answer).map_err(|e| Error::Protocol {
            domain: domain.to_string(),
            operation,
            detail: format!("undecodable QSResponse: {e}"),
        })?;
        match response.body {
            QsResponseBody::Error(error) => Err(Error::Refused {
                domain: domain.to_string(),
                operation,
                error,
            }),
            other => Ok(other),
        }
    }

    /// The answer was not the kind `operation` expects.
    pub fn unexpected(
        domain: &Domain,
        operation: &'static str,
        got: impl std::fmt::Debug,
    ) -> Error {
        let detail: String = format!("{got:?}").chars().take(120).collect();
        Error::Protocol {
            domain: domain.to_string(),
            operation,
            detail: format!("another answer: {detail}"),
        }
    }
}

impl Transport {
    /// The DS signing keys `domain` publishes, current first.
    pub async fn signature_public_keys(
        &self,
        domain: &Domain,
    ) -> Result<Vec<ds_core::wire::DsSigningKey>> {
        self.peer
            .signature_public_keys(domain)
            .await
            .map_err(|e| match e {
                ds_federation::PeerError::Refused { domain, error } => Error::Refused {
                    domain: domain.to_string(),
                    operation: "signature_public_key",
                    error,
                },
                other => Error::Transport(other),
            })
    }
}
