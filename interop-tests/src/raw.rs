//! Raw requests: bytes posted to a DS endpoint and its answer decoded, for
//! the hostile scenarios that send what no client would.

use std::time::{Duration, Instant};

use ds_client_sdk::{Domain, DsErrorCode};
use ds_core::wire::{DsFanoutResponse, DsFanoutResponseBody, DsResponse, DsResponseBody};
use ds_federation::{PeerClient, PeerError};

use crate::scenario::{Context as _, Failure};

/// The client-to-server endpoint.
pub const DS_PATH: &str = "/mimi/v1/ds";
/// The queue endpoint.
pub const QUEUE_PATH: &str = "/mimi/v1/queue";
/// The federation endpoint.
pub const FANOUT_PATH: &str = "/mimi/v1/fanout";

/// What a DS answered to a raw request.
#[derive(Debug)]
pub enum Answer {
    /// `200` with this body.
    Body(bytes::Bytes),
    /// Another HTTP status.
    Status(u16),
}

/// Posts `body` to `domain`'s `path`.
pub async fn post(
    raw: &PeerClient,
    domain: &Domain,
    path: &str,
    body: Vec<u8>,
) -> Result<Answer, Failure> {
    match raw.post(domain, path, body).await {
        Ok(bytes) => Ok(Answer::Body(bytes)),
        Err(PeerError::HttpStatus { status, .. }) => Ok(Answer::Status(status.as_u16())),
        Err(e) => Err(Failure(format!("posting to {domain}{path}: {e}"))),
    }
}

/// Posts a `DSRequest`'s bytes; the code of the error it must be answered
/// with (`200` carrying an error).
pub async fn ds_refusal(
    raw: &PeerClient,
    domain: &Domain,
    body: Vec<u8>,
) -> Result<DsErrorCode, Failure> {
    match post(raw, domain, DS_PATH, body).await? {
        Answer::Body(bytes) => match DsResponse::decode(&bytes)
            .ctx("decoding the DSResponse")?
            .body
        {
            DsResponseBody::Error(error) => Ok(error.code),
            other => Err(Failure(format!("accepted: {other:?}"))),
        },
        Answer::Status(status) => Err(Failure(format!("HTTP {status} instead of a DSResponse"))),
    }
}

/// Posts a `DSFanoutRequest`'s bytes to `domain`; the code of the error it
/// must be answered with.
pub async fn fanout_refusal(
    raw: &PeerClient,
    domain: &Domain,
    body: Vec<u8>,
) -> Result<DsErrorCode, Failure> {
    match post(raw, domain, FANOUT_PATH, body).await? {
        Answer::Body(bytes) => {
            match DsFanoutResponse::decode(&bytes)
                .ctx("decoding the DSFanoutResponse")?
                .body
            {
                DsFanoutResponseBody::Error(error) => Ok(error.code),
                other => Err(Failure(format!("accepted: {other:?}"))),
            }
        }
        Answer::Status(status) => Err(Failure(format!(
            "HTTP {status} instead of a DSFanoutResponse"
        ))),
    }
}

/// Waits until `domain`'s DS answers `signature_public_key`, for at most
/// `within`; why not, if it does not.
pub async fn serving(raw: &PeerClient, domain: &Domain, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        match raw.signature_public_keys(domain).await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("{domain} does not answer within {within:?}: {e}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}
