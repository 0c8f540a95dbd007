//! What can go wrong building the client or talking to a peer.

use std::path::PathBuf;

use ds_core::wire::{Domain, DsError};

/// Why a [`PeerClient`](super::PeerClient) could not be built from its config.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A trust-root PEM file could not be read or parsed.
    #[error("trust root {path}: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A trust-root PEM file holds no certificate.
    #[error("trust root {0} holds no certificate")]
    NoCertificate(PathBuf),
    /// A trust-root certificate is not a usable CA certificate.
    #[error("trust root {path}: {source}")]
    BadRoot {
        /// The file.
        path: PathBuf,
        /// Why rustls refused it.
        source: rustls::Error,
    },
    /// A configured peer address is not `host:port` (a scheme such as
    /// `http://` is refused: peers are reached over HTTPS only).
    #[error("peer {domain}: address {address:?} is not host:port")]
    PeerAddress {
        /// The peer.
        domain: Domain,
        /// The configured address.
        address: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Why a request to a peer DS failed. [`PeerError::reason`] is its metric label.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The peer's address could not be resolved or connected to, or the
    /// connection broke during the exchange.
    #[error("{domain} ({address}): {detail}")]
    Connect {
        /// The peer.
        domain: Domain,
        /// The address dialled.
        address: String,
        /// What failed.
        detail: String,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, no h2).
    #[error("{domain}: TLS: {detail}")]
    Tls {
        /// The peer.
        domain: Domain,
        /// What failed.
        detail: String,
    },
    /// Connecting or the exchange took longer than its timeout.
    #[error("{domain}: timed out while {during}")]
    Timeout {
        /// The peer.
        domain: Domain,
        /// Which step.
        during: &'static str,
    },
    /// The peer answered with another HTTP status than 200.
    #[error("{domain}: HTTP {status}: {detail}")]
    HttpStatus {
        /// The peer.
        domain: Domain,
        /// The status.
        status: http::StatusCode,
        /// The start of the body, for logs.
        detail: String,
    },
    /// The peer's answer is not what the protocol allows (undecodable,
    /// another body than expected, over the size limit).
    #[error("{domain}: malformed answer: {detail}")]
    Malformed {
        /// The peer.
        domain: Domain,
        /// What was wrong.
        detail: String,
    },
    /// The peer answered the request with a protocol error.
    #[error("{domain} refused: {error}")]
    Refused {
        /// The peer.
        domain: Domain,
        /// Its answer.
        error: DsError,
    },
    /// The request could not be built (a bad path, an unencodable message):
    /// a bug of the caller, nothing was sent.
    #[error("{domain}: request not sent: {detail}")]
    Request {
        /// The peer.
        domain: Domain,
        /// What was wrong.
        detail: String,
    },
}

impl PeerError {
    /// The metric label: `connect`, `tls`, `timeout`, `http_status`,
    /// `malformed`, `refused` or `request`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "connect",
            Self::Tls { .. } => "tls",
            Self::Timeout { .. } => "timeout",
            Self::HttpStatus { .. } => "http_status",
            Self::Malformed { .. } => "malformed",
            Self::Refused { .. } => "refused",
            Self::Request { .. } => "request",
        }
    }

    /// The peer the request was for.
    pub fn domain(&self) -> &Domain {
        match self {
            Self::Connect { domain, .. }
            | Self::Tls { domain, .. }
            | Self::Timeout { domain, .. }
            | Self::HttpStatus { domain, .. }
            | Self::Malformed { domain, .. }
            | Self::Refused { domain, .. }
            | Self::Request { domain, .. } => domain,
        }
    }

    /// The HTTP status, when the peer answered with one other than 200.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Self::HttpStatus { status, .. } => Some(*status),
            _ => None,
        }
    }
}
