//! Hostile input to the client-facing endpoints (`/mimi/v1/ds` and
//! `/mimi/v1/queue`): bytes that are no request, requests cut short, padded,
//! too big or of an unknown version, forged or misplaced signatures, commits
//! that do not verify, messages of a past epoch, replays, stale or foreign
//! queue requests, key packages in another client's name, and plain HTTP on
//! the TLS port. Each must be answered with its own error code (spec §10,
//! §13) and store nothing: the members' logs hold no new entry (read with a
//! signed sync of a member, which moves nothing), the queues keep what they
//! held, and the group goes on as before.

mod queue;
mod signatures;
mod spoil;
mod transport;

use ds_client_sdk::{Client, Domain, DsErrorCode, GroupId};
use ds_core::wire::{DsRequest, DsResponse, DsResponseBody, QsRequest, QsResponse, QsResponseBody};
use ds_federation::PeerClient;
use openmls::prelude::SignatureScheme;
use openmls_basic_credential::SignatureKeyPair;

use crate::peek::unacked;
use crate::raw::{self, Answer, DS_PATH, QUEUE_PATH};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "SEC-GARBAGE",
            "garbage after version 1, and empty bodies, to the DS and queue endpoints: MalformedMessage, nothing stored",
            transport::garbage
        ),
        scenario!(
            "SEC-TRUNCATED",
            "a valid DS or queue request cut short: MalformedMessage; the whole request then works once",
            transport::truncated
        ),
        scenario!(
            "SEC-TRAILING",
            "a valid DS or queue request with bytes appended: MalformedMessage; the request then works once",
            transport::trailing
        ),
        scenario!(
            "SEC-OVERSIZE",
            "a body of 16 MiB + 1 byte to the DS and queue endpoints: HTTP 413",
            transport::oversize
        ),
        scenario!(
            "SEC-VERSION",
            "a DS or queue request of version 0, 2 or 65535, or random bytes: UnsupportedVersion, nothing stored",
            transport::version
        ),
        scenario!(
            "SEC-FORGED-SIGNATURE",
            "a message or commit with an altered ClientSignature: InvalidClientSignature (none: WrongAuthType)",
            signatures::forged_signature
        ),
        scenario!(
            "SEC-WRONG-LEAF",
            "a member signing as another's leaf: InvalidClientSignature; another's commit: SenderMismatch",
            signatures::wrong_leaf
        ),
        scenario!(
            "SEC-NON-MEMBER",
            "a registered non-member's message: UnknownSender (no such leaf), InvalidClientSignature (a member's)",
            signatures::non_member
        ),
        scenario!(
            "SEC-ALTERED-COMMIT",
            "an update commit altered after signing, validly re-signed: InvalidCommit; the group goes on",
            signatures::altered_commit
        ),
        scenario!(
            "SEC-STALE-EPOCH",
            "a message and a commit made before another member's commit, posted after it: WrongEpoch",
            signatures::stale_epoch
        ),
        scenario!(
            "SEC-REPLAY-DS",
            "the same signed send_message posted twice: ok both times, logged once, received once",
            signatures::replay_ds
        ),
        scenario!(
            "SEC-REPLAY-QS",
            "the same signed queue request (sync, key package count) posted twice: ReplayedRequest",
            queue::replay_qs
        ),
        scenario!(
            "SEC-STALE-QS",
            "a queue request dated an hour in the past or in the future: StaleRequest",
            queue::stale_qs
        ),
        scenario!(
            "SEC-UNKNOWN-CLIENT",
            "queue requests (sync, registration) of a client id unknown to the DS: UnknownClient",
            queue::unknown_client
        ),
        scenario!(
            "SEC-OTHERS-QUEUE",
            "a sync or ack in another client's name: InvalidRequestSignature; its queue keeps its message",
            queue::others_queue
        ),
        scenario!(
            "SEC-PUBLISH-AS-OTHER",
            "publishing key packages of another client or key: InvalidKeyPackage, none stored",
            queue::publish_as_other
        ),
        scenario!(
            "SEC-PLAIN-HTTP",
            "a plain-text HTTP/1.1 request to the DS's TLS port gets no HTTP answer",
            transport::plain_http
        ),
    ]
}

// ---------------------------------------------------------------------------
// Helpers of several files.

/// The domain a group lives on.
fn home(group: &GroupId) -> Result<Domain, Failure> {
    Domain::new(group.domain()).ctx(format!("the domain of {group}"))
}

fn encode_ds(request: &DsRequest) -> Result<Vec<u8>, Failure> {
    request.encode().ctx("encoding the DSRequest")
}

fn encode_qs(request: &QsRequest) -> Result<Vec<u8>, Failure> {
    request.encode().ctx("encoding the QSRequest")
}

/// `body` posted to the DS endpoint must be refused with `want`.
async fn ds_refused(
    raw: &PeerClient,
    domain: &Domain,
    body: Vec<u8>,
    want: DsErrorCode,
    what: &str,
) -> Outcome {
    let got = raw::ds_refusal(raw, domain, body)
        .await
        .map_err(|e| Failure(format!("{what} to {domain}: expected {want:?}, {e}")))?;
    ensure!(
        got == want,
        "{what} to {domain}: expected {want:?}, got {got:?}"
    );
    Ok(())
}

/// `body` posted to the DS endpoint must be accepted with `ok`.
async fn ds_accepted(raw: &PeerClient, domain: &Domain, body: Vec<u8>, what: &str) -> Outcome {
    let answer = raw.post(domain, DS_PATH, body).await.ctx(what)?;
    let response = DsResponse::decode(&answer).ctx(format!("{what}: decoding the DSResponse"))?;
    ensure!(
        matches!(response.body, DsResponseBody::Ok),
        "{what} to {domain}: expected ok, got {:?}",
        response.body
    );
    Ok(())
}

/// Posts `body` to the queue endpoint; the `QSResponse` body it is answered
/// with (`200`).
async fn qs_post(
    raw: &PeerClient,
    domain: &Domain,
    body: Vec<u8>,
    what: &str,
) -> Result<QsResponseBody, Failure> {
    match raw::post(raw, domain, QUEUE_PATH, body).await? {
        Answer::Body(bytes) => Ok(QsResponse::decode(&bytes)
            .ctx(format!("{what}: decoding the QSResponse"))?
            .body),
        Answer::Status(status) => Err(Failure(format!(
            "{what} to {domain}: HTTP {status} instead of a QSResponse"
        ))),
    }
}

/// `body` posted to the queue endpoint must be refused with `want`.
async fn qs_refused(
    raw: &PeerClient,
    domain: &Domain,
    body: Vec<u8>,
    want: DsErrorCode,
    what: &str,
) -> Outcome {
    match qs_post(raw, domain, body, what).await? {
        QsResponseBody::Error(e) => {
            ensure!(
                e.code == want,
                "{what} to {domain}: expected {want:?}, got {e}"
            );
            Ok(())
        }
        other => Err(Failure(format!(
            "{what} to {domain}: expected {want:?}, accepted: {other:?}"
        ))),
    }
}

/// `reader`'s log of `group` must still be `before`: nothing was stored.
async fn unchanged(
    reader: &Client,
    group: &GroupId,
    before: &[(u64, Vec<u8>)],
    after_what: &str,
) -> Outcome {
    let now = unacked(reader, group).await?;
    ensure!(
        now == before,
        "after {after_what}, the log of {group} holds {} entries (sequences {:?}), expected {} ({:?})",
        now.len(),
        now.iter().map(|e| e.0).collect::<Vec<_>>(),
        before.len(),
        before.iter().map(|e| e.0).collect::<Vec<_>>()
    );
    Ok(())
}

/// A fresh Ed25519 key of nobody's.
fn stranger() -> Result<SignatureKeyPair, Failure> {
    SignatureKeyPair::new(SignatureScheme::ED25519).ctx("a key pair")
}
