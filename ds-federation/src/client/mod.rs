//! The HTTPS client to other DSes: one HTTP/2 connection per peer domain,
//! opened on first use and again after it failed; every request is a
//! `POST https://{domain}{path}` of `application/mimi-ds` bytes.
//!
//! It must not retry beyond one resend on a freshly opened connection (the
//! caller's queue owns retries and backoff) nor interpret protocol errors.

mod connection;
mod error;
mod tls;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use ds_core::wire::{
    Domain, DsAuthData, DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody, DsRequest,
    DsRequestBody, DsResponse, DsResponseBody, DsSigningKey, ProtocolVersion,
};
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use tokio_rustls::TlsConnector;

pub use error::{ClientError, PeerError};

use connection::Sender;

/// The media type of every request and answer.
pub const MEDIA_TYPE: &str = "application/mimi-ds";
/// Where DS requests go (`signature_public_key` among them).
pub const DS_PATH: &str = "/mimi/v1/ds";
/// Where fan-out requests go.
pub const FANOUT_PATH: &str = "/mimi/v1/fanout";
/// The largest answer body read from a peer.
pub const MAX_RESPONSE_BODY: usize = 64 << 20;
/// How much of a non-200 body is kept for the error.
const ERROR_DETAIL_LEN: usize = 200;

/// How to reach peers.
#[derive(Debug, Clone)]
pub struct PeerClientConfig {
    /// PEM files of the CAs peers' certificates must chain to; empty means
    /// the system's roots.
    pub trust_roots: Vec<PathBuf>,
    /// Addresses (`host:port`) that override `{domain}:443`.
    pub peers: BTreeMap<Domain, String>,
    /// For DNS, TCP, TLS and HTTP/2 handshakes together.
    pub connect_timeout: Duration,
    /// For sending a request and reading its whole answer.
    pub request_timeout: Duration,
}

/// A client of other DSes. Cheap to clone; clones share the connections.
#[derive(Clone)]
pub struct PeerClient {
    inner: Arc<Inner>,
}

struct Inner {
    connector: TlsConnector,
    peers: BTreeMap<Domain, String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    /// One slot per domain; its lock is held while connecting, so concurrent
    /// requests to a domain share one connection attempt.
    connections: Mutex<HashMap<Domain, Arc<tokio::sync::Mutex<Option<Sender>>>>>,
}

impl std::fmt::Debug for PeerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerClient")
            .field("peers", &self.inner.peers)
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("request_timeout", &self.inner.request_timeout)
            .finish_non_exhaustive()
    }
}

impl PeerClient {
    /// A client with `config`'s trust roots and peer addresses.
    pub fn new(config: PeerClientConfig) -> Result<Self, ClientError> {
        for (domain, address) in &config.peers {
            if !is_host_port(address) {
                return Err(ClientError::PeerAddress {
                    domain: domain.clone(),
                    address: address.clone(),
                });
            }
        }
        let tls = tls::client_config(&config.trust_roots)?;
        Ok(Self {
            inner: Arc::new(Inner {
                connector: TlsConnector::from(tls),
                peers: config.peers,
                connect_timeout: config.connect_timeout,
                request_timeout: config.request_timeout,
                connections: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Where `domain` is dialled: its configured address or `{domain}:443`.
    pub fn address(&self, domain: &Domain) -> String {
        self.inner
            .peers
            .get(domain)
            .cloned()
            .unwrap_or_else(|| format!("{}:443", domain.as_str()))
    }

    /// POSTs `body` to `https://{domain}{path}` and returns the answer body
    /// of a 200; any other status is [`PeerError::HttpStatus`].
    pub async fn post(
        &self,
        domain: &Domain,
        path: &str,
        body: Vec<u8>,
    ) -> Result<Bytes, PeerError> {
        let body = Bytes::from(body);
        let request = build_request(domain, path, body.clone())?;
        let (mut sender, fresh) = self.sender(domain).await?;
        let first = self.exchange(domain, &mut sender, request).await;
        let answer = match first {
            Err(PeerError::Connect { .. }) if !fresh => {
                // The cached connection had gone stale: one resend on a new one.
                self.forget(domain).await;
                let request = build_request(domain, path, body)?;
                let (mut sender, _) = self.sender(domain).await?;
                self.exchange(domain, &mut sender, request).await
            }
            other => other,
        };
        if matches!(
            answer,
            Err(PeerError::Connect { .. } | PeerError::Timeout { .. })
        ) {
            self.forget(domain).await;
        }
        answer
    }

    /// Sends a signed fan-out request to its `recipient_domain` and returns
    /// that DS's answer (`fanout_error` is an answer, not a [`PeerError`]).
    pub async fn fanout(
        &self,
        request: &DsFanoutRequest,
    ) -> Result<DsFanoutResponseBody, PeerError> {
        let domain = &request.recipient_domain;
        let body = request.encode().map_err(|e| PeerError::Request {
            domain: domain.clone(),
            detail: format!("encoding the fan-out request: {e}"),
        })?;
        let answer = self.post(domain, FANOUT_PATH, body).await?;
        let response = DsFanoutResponse::decode(&answer).map_err(|e| PeerError::Malformed {
            domain: domain.clone(),
            detail: format!("DSFanoutResponse: {e}"),
        })?;
        Ok(response.body)
    }

    /// The DS signing keys `domain` publishes (`signature_public_key`).
    pub async fn signature_public_keys(
        &self,
        domain: &Domain,
    ) -> Result<Vec<DsSigningKey>, PeerError> {
        let request = DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::SignaturePublicKey,
            auth: DsAuthData::Anonymous,
        };
        let body = request.encode().map_err(|e| PeerError::Request {
            domain: domain.clone(),
            detail: format!("encoding signature_public_key: {e}"),
        })?;
        let answer = self.post(domain, DS_PATH, body).await?;
        let malformed = |detail: String| PeerError::Malformed {
            domain: domain.clone(),
            detail,
        };
        let response =
            DsResponse::decode(&answer).map_err(|e| malformed(format!("DSResponse: {e}")))?;
        match response.body {
            DsResponseBody::SignaturePublicKey(keys) => Ok(keys.keys.into_vec()),
            DsResponseBody::Error(error) => Err(PeerError::Refused {
                domain: domain.clone(),
                error,
            }),
            _ => Err(malformed("another answer than signature_public_key".into())),
        }
    }

    /// A sender on the domain's connection, opening one if there is none or
    /// it closed; `true` when it was opened by this call.
    async fn sender(&self, domain: &Domain) -> Result<(Sender, bool), PeerError> {
        let slot = self.slot(domain);
        let mut slot = slot.lock().await;
        if let Some(sender) = slot.as_ref().filter(|s| !s.is_closed()) {
            return Ok((sender.clone(), false));
        }
        *slot = None;
        let address = self.address(domain);
        let sender = connection::connect(
            &self.inner.connector,
            domain,
            &address,
            self.inner.connect_timeout,
        )
        .await?;
        *slot = Some(sender.clone());
        Ok((sender, true))
    }

    /// Drops the domain's cached connection (its requests in flight finish).
    async fn forget(&self, domain: &Domain) {
        *self.slot(domain).lock().await = None;
    }

    fn slot(&self, domain: &Domain) -> Arc<tokio::sync::Mutex<Option<Sender>>> {
        let mut connections = self
            .inner
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(connections.entry(domain.clone()).or_default())
    }

    /// Sends `request` and reads the whole answer within the request timeout.
    async fn exchange(
        &self,
        domain: &Domain,
        sender: &mut Sender,
        request: Request<Full<Bytes>>,
    ) -> Result<Bytes, PeerError> {
        let exchange = async {
            let transport = |e: hyper::Error| PeerError::Connect {
                domain: domain.clone(),
                address: self.address(domain),
                detail: e.to_string(),
            };
            sender.ready().await.map_err(transport)?;
            let response = sender.send_request(request).await.map_err(transport)?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|e| match e.downcast::<hyper::Error>() {
                    Ok(e) => transport(*e),
                    Err(e) => PeerError::Malformed {
                        domain: domain.clone(),
                        detail: format!("answer body: {e}"),
                    },
                })?
                .to_bytes();
            if status != StatusCode::OK {
                let cut = body.len().min(ERROR_DETAIL_LEN);
                return Err(PeerError::HttpStatus {
                    domain: domain.clone(),
                    status,
                    detail: String::from_utf8_lossy(&body[..cut]).trim().to_owned(),
                });
            }
            Ok(body)
        };
        tokio::time::timeout(self.inner.request_timeout, exchange)
            .await
            .map_err(|_| PeerError::Timeout {
                domain: domain.clone(),
                during: "waiting for the answer",
            })?
    }
}

fn build_request(
    domain: &Domain,
    path: &str,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, PeerError> {
    let refuse = |detail: String| PeerError::Request {
        domain: domain.clone(),
        detail,
    };
    if !path.starts_with('/') {
        return Err(refuse(format!("path {path:?} does not start with /")));
    }
    Request::builder()
        .method(Method::POST)
        .uri(format!("https://{}{path}", domain.as_str()))
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Full::new(body))
        .map_err(|e| refuse(e.to_string()))
}

/// `host:port` with a non-empty host and a numeric port, nothing else (no
/// scheme, path or user info).
fn is_host_port(address: &str) -> bool {
    let Ok(authority) = address.parse::<http::uri::Authority>() else {
        return false;
    };
    authority.as_str() == address
        && !authority.host().is_empty()
        && !address.contains('@')
        && authority.port_u16().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses_are_host_and_port_only() {
        assert!(is_host_port("127.0.0.1:8443"));
        assert!(is_host_port("ds.b.example:443"));
        assert!(is_host_port("[::1]:443"));
        assert!(!is_host_port("ds.b.example"));
        assert!(!is_host_port("http://ds.b.example:80"));
        assert!(!is_host_port("https://ds.b.example:443"));
        assert!(!is_host_port("user@ds.b.example:443"));
        assert!(!is_host_port("ds.b.example:443/x"));
    }

    #[test]
    fn a_scheme_in_a_peer_address_is_refused() {
        let domain = Domain::new("b.example").unwrap();
        let config = PeerClientConfig {
            trust_roots: vec![],
            peers: BTreeMap::from([(domain, "http://127.0.0.1:80".to_owned())]),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
        };
        assert!(matches!(
            PeerClient::new(config),
            Err(ClientError::PeerAddress { .. })
        ));
    }

    #[test]
    fn requests_are_https_posts_of_the_media_type() {
        let domain = Domain::new("b.example").unwrap();
        let request = build_request(&domain, "/mimi/v1/ds", Bytes::new()).unwrap();
        assert_eq!(request.uri().to_string(), "https://b.example/mimi/v1/ds");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.headers()[header::CONTENT_TYPE], MEDIA_TYPE);
        assert!(matches!(
            build_request(&domain, "evil.example/x", Bytes::new()),
            Err(PeerError::Request { .. })
        ));
    }
}
