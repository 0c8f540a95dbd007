//! Hostile input to the client-facing endpoints (`/mimi/v1/ds` and
//! `/mimi/v1/queue`): bytes that are no request, requests cut short, padded,
//! too big or of an unknown version, forged or misplaced signatures, commits
//! that do not verify, messages of a past epoch, replays, stale or foreign
//! queue requests, key packages in another client's name, and plain HTTP on
//! the TLS port. Each must be answered with its own error code (spec §10,
//! §13) and store nothing: the members' logs hold no new entry (read with a
//! signed sync of a member, which moves nothing), the queues keep what they
//! held, and the group goes on as before.

use std::time::Duration;

use ds_client_sdk::{Client, ClientId, Domain, DsErrorCode, GroupId};
use ds_core::wire::{
    AckRequest, ClientSignature, DsAuthData, DsKeyPackage, DsRequest, DsRequestBody, DsResponse,
    DsResponseBody, GroupPosition, KeyPackageCountRequest, KeyPackageKind, KeyPackageUpload,
    KeyPackagesRequest, List, MlsBytes, ProtocolVersion, PublishKeyPackagesRequest, QsRequest,
    QsRequestBody, QsResponse, QsResponseBody, QueuePositions, RegisterClientRequest,
    SIGNATURE_SCHEME_ED25519, ShortBytes,
};
use ds_federation::PeerClient;
use openmls::prelude::{MlsMessageOut, SignatureScheme};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::signatures::Signer as _;
use tls_codec::Serialize as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::ctx::Ctx;
use crate::events::{expect_message, quiet};
use crate::forge::{self, now};
use crate::peek::{signed_sync, sync_body, unacked};
use crate::raw::{self, Answer, DS_PATH, QUEUE_PATH};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "SEC-GARBAGE",
            "garbage after version 1, and empty bodies, to the DS and queue endpoints: MalformedMessage, nothing stored",
            garbage
        ),
        scenario!(
            "SEC-TRUNCATED",
            "a valid DS or queue request cut short: MalformedMessage; the whole request then works once",
            truncated
        ),
        scenario!(
            "SEC-TRAILING",
            "a valid DS or queue request with bytes appended: MalformedMessage; the request then works once",
            trailing
        ),
        scenario!(
            "SEC-OVERSIZE",
            "a body of 16 MiB + 1 byte to the DS and queue endpoints: HTTP 413",
            oversize
        ),
        scenario!(
            "SEC-VERSION",
            "a DS or queue request of version 0, 2 or 65535, or random bytes: UnsupportedVersion, nothing stored",
            version
        ),
        scenario!(
            "SEC-FORGED-SIGNATURE",
            "a message or commit with an altered ClientSignature: InvalidClientSignature (none: WrongAuthType)",
            forged_signature
        ),
        scenario!(
            "SEC-WRONG-LEAF",
            "a member signing as another's leaf: InvalidClientSignature; another's commit: SenderMismatch",
            wrong_leaf
        ),
        scenario!(
            "SEC-NON-MEMBER",
            "a registered non-member's message: UnknownSender (no such leaf), InvalidClientSignature (a member's)",
            non_member
        ),
        scenario!(
            "SEC-ALTERED-COMMIT",
            "an update commit altered after signing, validly re-signed: InvalidCommit; the group goes on",
            altered_commit
        ),
        scenario!(
            "SEC-STALE-EPOCH",
            "a message and a commit made before another member's commit, posted after it: WrongEpoch",
            stale_epoch
        ),
        scenario!(
            "SEC-REPLAY-DS",
            "the same signed send_message posted twice: ok both times, logged once, received once",
            replay_ds
        ),
        scenario!(
            "SEC-REPLAY-QS",
            "the same signed queue request (sync, key package count) posted twice: ReplayedRequest",
            replay_qs
        ),
        scenario!(
            "SEC-STALE-QS",
            "a queue request dated an hour in the past or in the future: StaleRequest",
            stale_qs
        ),
        scenario!(
            "SEC-UNKNOWN-CLIENT",
            "queue requests (sync, registration) of a client id unknown to the DS: UnknownClient",
            unknown_client
        ),
        scenario!(
            "SEC-OTHERS-QUEUE",
            "a sync or ack in another client's name: InvalidRequestSignature; its queue keeps its message",
            others_queue
        ),
        scenario!(
            "SEC-PUBLISH-AS-OTHER",
            "publishing key packages of another client or key: InvalidKeyPackage, none stored",
            publish_as_other
        ),
        scenario!(
            "SEC-PLAIN-HTTP",
            "a plain-text HTTP/1.1 request to the DS's TLS port gets no HTTP answer",
            plain_http
        ),
    ]
}

// ---------------------------------------------------------------------------
// Helpers.

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

/// After refused requests: `bob`'s log of `group` is as `before`, and the
/// group goes on: `alice` commits an update, then sends `text`, which is
/// `bob`'s next and last event.
async fn goes_on(
    alice: &Client,
    bob: &Client,
    group: &GroupId,
    before: &[(u64, Vec<u8>)],
    after_what: &str,
    text: &[u8],
) -> Outcome {
    unchanged(bob, group, before, after_what).await?;
    alice.update(group).await.ctx("alice's update")?;
    alice.send(group, text).await.ctx("alice sends")?;
    expect_message(bob, group, alice.id(), text).await?;
    quiet(bob).await
}

/// The MLS message a crafted `send_message` carries.
fn application_message(request: &DsRequest) -> Result<Vec<u8>, Failure> {
    match &request.body {
        DsRequestBody::SendMessage(m) => Ok(m.application_message.as_slice().to_vec()),
        other => Err(Failure(format!("crafted a {:?}", other.operation()))),
    }
}

/// `request` with its ClientSignature replaced.
fn with_signature(
    mut request: DsRequest,
    sender_index: u32,
    signature: Vec<u8>,
) -> Result<DsRequest, Failure> {
    request.auth = DsAuthData::ClientSignature(ClientSignature {
        sender_index,
        signature: ShortBytes::new(signature).ctx("signature")?,
    });
    Ok(request)
}

/// The ClientSignature of `request`: (sender index, signature).
fn client_signature(request: &DsRequest) -> Result<(u32, Vec<u8>), Failure> {
    match &request.auth {
        DsAuthData::ClientSignature(cs) => Ok((cs.sender_index, cs.signature.as_slice().to_vec())),
        other => Err(Failure(format!("crafted with {other:?}"))),
    }
}

/// A fresh Ed25519 key of nobody's.
fn stranger() -> Result<SignatureKeyPair, Failure> {
    SignatureKeyPair::new(SignatureScheme::ED25519).ctx("a key pair")
}

/// 16 random bytes.
fn random_nonce() -> Result<Vec<u8>, Failure> {
    let mut nonce = vec![0u8; 16];
    getrandom::getrandom(&mut nonce).ctx("random nonce")?;
    Ok(nonce)
}

/// `body` as a queue request of `client_id`, signed by `key` now.
fn signed_by(
    key: &SignatureKeyPair,
    client_id: &ClientId,
    body: QsRequestBody,
) -> Result<QsRequest, Failure> {
    ds_core::queue::sign_qs_request(body, client_id.clone(), now(), random_nonce()?, key)
        .ctx("signing a queue request")
}

/// Reads an MLS variable-length integer at `*at` (RFC 9420 §2.1.2).
fn varint(bytes: &[u8], at: &mut usize) -> Result<usize, Failure> {
    let first = *bytes
        .get(*at)
        .ok_or_else(|| Failure("commit ends early".into()))?;
    let len = 1usize << (first >> 6);
    ensure!(len <= 4, "commit: invalid varint");
    let mut value = usize::from(first & 0x3f);
    for i in 1..len {
        let b = *bytes
            .get(*at + i)
            .ok_or_else(|| Failure("commit ends early".into()))?;
        value = (value << 8) | usize::from(b);
    }
    *at += len;
    Ok(value)
}

/// Flips a byte of the new leaf's encryption key in the update path of a
/// member's PublicMessage commit (MLSMessage: version, wire format,
/// group_id, epoch, sender, authenticated_data, content type, commit with
/// no proposals, then the path): still well-formed, no longer what was
/// signed.
fn spoil_path(commit: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut at = 4; // version, wire_format
    let group_id = varint(commit, &mut at)?;
    at += group_id + 8; // group id, epoch
    ensure!(
        commit.get(at) == Some(&1),
        "commit: the sender is not a member"
    );
    at += 5; // sender type, leaf index
    let aad = varint(commit, &mut at)?;
    at += aad;
    ensure!(
        commit.get(at) == Some(&3),
        "commit: content type is not commit"
    );
    at += 1;
    let proposals = varint(commit, &mut at)?;
    at += proposals;
    ensure!(commit.get(at) == Some(&1), "commit: no update path");
    at += 1;
    let key = varint(commit, &mut at)?;
    ensure!(
        key == 32,
        "commit: the path's encryption key is {key} bytes"
    );
    let mut spoiled = commit.to_vec();
    let byte = spoiled
        .get_mut(at + 5)
        .ok_or_else(|| Failure("commit ends early".into()))?;
    *byte ^= 0x01;
    Ok(spoiled)
}

/// Flips a byte of the signature of a member's PublicMessage commit, which
/// ends in signature<V> (64 bytes), confirmation_tag<V> and
/// membership_tag<V> (32 bytes each).
fn spoil_signature(commit: &[u8]) -> Result<Vec<u8>, Failure> {
    let n = commit.len();
    ensure!(
        n > 132
            && commit.get(n - 33) == Some(&0x20)
            && commit.get(n - 66) == Some(&0x20)
            && commit.get(n - 132..n - 130) == Some(&[0x40, 0x40][..]),
        "the commit does not end in a signature and two tags"
    );
    let mut spoiled = commit.to_vec();
    if let Some(byte) = spoiled.get_mut(n - 100) {
        *byte ^= 0x01;
    }
    Ok(spoiled)
}

/// Alters a commit's MLS bytes.
type Spoiler = fn(&[u8]) -> Result<Vec<u8>, Failure>;

/// The update commit inside a crafted `update_client`, altered by `spoil`.
fn altered_update(request: DsRequest, spoil: Spoiler) -> Result<DsRequestBody, Failure> {
    match request.body {
        DsRequestBody::UpdateClient(mut update) => {
            let commit = spoil(update.group_update.commit.as_slice())?;
            update.group_update.commit = MlsBytes::new(commit).ctx("commit")?;
            Ok(DsRequestBody::UpdateClient(update))
        }
        other => Err(Failure(format!("crafted a {:?}", other.operation()))),
    }
}

/// How many key packages of `client`'s regular pool the DS holds.
async fn key_package_count(client: &Client) -> Result<u32, Failure> {
    let body = QsRequestBody::KeyPackageCount(KeyPackageCountRequest {
        kind: KeyPackageKind::Regular,
    });
    let request = client
        .sign_queue_request(body, now())
        .await
        .ctx("signing key_package_count")?;
    match client.post_queue(&request).await.ctx("key_package_count")? {
        QsResponseBody::KeyPackageCount(n) => Ok(n),
        other => Err(Failure(format!("key_package_count answered {other:?}"))),
    }
}

// ---------------------------------------------------------------------------
// Framing.

/// Bytes that are no request, all starting as version 1 so that only the
/// framing is at fault: nothing, a lone byte, the version alone, and the
/// version followed by 1 KiB of random bytes.
fn garbage_bodies() -> Result<Vec<(&'static str, Vec<u8>)>, Failure> {
    let mut random = vec![0u8; 1024];
    getrandom::getrandom(&mut random).ctx("random bytes")?;
    // An undefined operation first, whatever the random bytes are.
    let mut undefined = vec![0x00, 0x01, 0xff, 0xff];
    undefined.extend_from_slice(&random);
    let mut versioned = vec![0x00, 0x01];
    versioned.extend_from_slice(&random);
    Ok(vec![
        ("an empty body", Vec::new()),
        ("one byte", vec![0x00]),
        ("the version alone", vec![0x00, 0x01]),
        ("an undefined operation and random bytes", undefined),
        ("random bytes after the version", versioned),
    ])
}

async fn garbage(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (_alice, bob, group) = super::cs::pair(&ctx).await?;
    let before = unacked(&bob, &group).await?;
    for domain in [ctx.a(), ctx.b()] {
        for (what, body) in garbage_bodies()? {
            ds_refused(
                &raw,
                &domain,
                body.clone(),
                DsErrorCode::MalformedMessage,
                what,
            )
            .await?;
            qs_refused(&raw, &domain, body, DsErrorCode::MalformedMessage, what).await?;
        }
    }
    unchanged(&bob, &group, &before, "the garbage").await
}

async fn truncated(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let before = unacked(&bob, &group).await?;
    let message = alice
        .craft_message(&group, b"whole")
        .await
        .ctx("craft_message")?;
    let bytes = encode_ds(&message)?;
    for cut in [1, 2, 3, 10, bytes.len() / 2, bytes.len() - 1] {
        let what = format!("send_message cut to {cut} of {} bytes", bytes.len());
        let body = bytes.get(..cut).unwrap_or_default().to_vec();
        ds_refused(&raw, &domain, body, DsErrorCode::MalformedMessage, &what).await?;
    }
    unchanged(&bob, &group, &before, "the truncated requests").await?;
    // The whole request is taken, and stored once.
    ds_accepted(&raw, &domain, bytes, "the whole send_message").await?;
    expect_message(&bob, &group, alice.id(), b"whole").await?;

    // The queue: a sync cut short uses up no nonce; the whole one works.
    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "carol", "phone").await?;
        let bytes = encode_qs(&signed_sync(&client).await?)?;
        for cut in [1, 2, 3, bytes.len() / 2, bytes.len() - 1] {
            let what = format!("a sync cut to {cut} of {} bytes", bytes.len());
            let body = bytes.get(..cut).unwrap_or_default().to_vec();
            qs_refused(&raw, &domain, body, DsErrorCode::MalformedMessage, &what).await?;
        }
        let answer = qs_post(&raw, &domain, bytes, "the whole sync").await?;
        ensure!(
            matches!(answer, QsResponseBody::Page(_)),
            "the whole sync after its truncated copies: {answer:?}"
        );
    }
    quiet(&bob).await
}

async fn trailing(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let before = unacked(&bob, &group).await?;
    let message = alice
        .craft_message(&group, b"exact")
        .await
        .ctx("craft_message")?;
    let bytes = encode_ds(&message)?;
    let padded = |extra: &[u8]| [bytes.as_slice(), extra].concat();
    for (what, body) in [
        ("send_message and a zero byte", padded(&[0])),
        ("send_message and 100 bytes", padded(&[0x5a; 100])),
        ("send_message twice in one body", padded(&bytes)),
    ] {
        ds_refused(&raw, &domain, body, DsErrorCode::MalformedMessage, what).await?;
    }
    unchanged(&bob, &group, &before, "the padded requests").await?;
    ds_accepted(&raw, &domain, bytes, "the exact send_message").await?;
    expect_message(&bob, &group, alice.id(), b"exact").await?;

    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "carol", "phone").await?;
        let bytes = encode_qs(&signed_sync(&client).await?)?;
        let padded = |extra: &[u8]| [bytes.as_slice(), extra].concat();
        for (what, body) in [
            ("a sync and a zero byte", padded(&[0])),
            ("a sync twice in one body", padded(&bytes)),
        ] {
            qs_refused(&raw, &domain, body, DsErrorCode::MalformedMessage, what).await?;
        }
        let answer = qs_post(&raw, &domain, bytes, "the exact sync").await?;
        ensure!(
            matches!(answer, QsResponseBody::Page(_)),
            "the exact sync after its padded copies: {answer:?}"
        );
    }
    quiet(&bob).await
}

/// The default `limits.max_body_bytes`.
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn oversize(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let mut body = vec![0u8; MAX_BODY + 1];
    if let Some(version) = body.get_mut(..2) {
        version.copy_from_slice(&ProtocolVersion::V1.0.to_be_bytes());
    }
    for domain in [ctx.a(), ctx.b()] {
        for path in [DS_PATH, QUEUE_PATH] {
            let answer = raw::post(&raw, &domain, path, body.clone()).await?;
            ensure!(
                matches!(answer, Answer::Status(413)),
                "{} bytes to {domain}{path}: expected HTTP 413, got {answer:?}",
                body.len()
            );
        }
    }
    Ok(())
}

async fn version(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let before = unacked(&bob, &group).await?;
    let message = encode_ds(
        &alice
            .craft_message(&group, b"v1")
            .await
            .ctx("craft_message")?,
    )?;
    let anonymous = encode_ds(&DsRequest {
        version: ProtocolVersion::V1,
        body: DsRequestBody::RequestGroupId,
        auth: DsAuthData::Anonymous,
    })?;
    let with_version = |bytes: &[u8], v: u16| {
        let mut patched = bytes.to_vec();
        if let Some(head) = patched.get_mut(..2) {
            head.copy_from_slice(&v.to_be_bytes());
        }
        patched
    };
    let owner = home(&group)?;
    let mut syncs = Vec::new();
    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "carol", "phone").await?;
        syncs.push((domain, client));
    }
    // Random bytes are read as a version first.
    let mut random = vec![0u8; 256];
    getrandom::getrandom(&mut random).ctx("random bytes")?;
    if random.starts_with(&[0x00, 0x01])
        && let Some(low) = random.get_mut(1)
    {
        *low = 0x02;
    }
    for (domain, _) in &syncs {
        let what = "random bytes";
        ds_refused(
            &raw,
            domain,
            random.clone(),
            DsErrorCode::UnsupportedVersion,
            what,
        )
        .await?;
        qs_refused(
            &raw,
            domain,
            random.clone(),
            DsErrorCode::UnsupportedVersion,
            what,
        )
        .await?;
    }
    for v in [0u16, 2, 0xffff] {
        let what = format!("send_message of version {v}");
        let body = with_version(&message, v);
        ds_refused(&raw, &owner, body, DsErrorCode::UnsupportedVersion, &what).await?;
        for (domain, client) in &syncs {
            let what = format!("request_group_id of version {v}");
            let body = with_version(&anonymous, v);
            ds_refused(&raw, domain, body, DsErrorCode::UnsupportedVersion, &what).await?;
            let sync = encode_qs(&signed_sync(client).await?)?;
            let what = format!("a sync of version {v}");
            let body = with_version(&sync, v);
            qs_refused(&raw, domain, body, DsErrorCode::UnsupportedVersion, &what).await?;
        }
    }
    unchanged(&bob, &group, &before, "the requests of unknown versions").await?;
    ds_accepted(&raw, &owner, message, "the send_message of version 1").await?;
    expect_message(&bob, &group, alice.id(), b"v1").await
}

// ---------------------------------------------------------------------------
// Group operations.

async fn forged_signature(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let before = unacked(&bob, &group).await?;
    let intruder = stranger()?;
    for (what, crafted) in [
        (
            "send_message",
            alice
                .craft_message(&group, b"forged")
                .await
                .ctx("craft_message")?,
        ),
        (
            "update_client",
            alice.craft_update(&group).await.ctx("craft_update")?,
        ),
    ] {
        let (index, signature) = client_signature(&crafted)?;
        let mut flipped = signature.clone();
        if let Some(byte) = flipped.first_mut() {
            *byte ^= 0x01;
        }
        let content = ds_core::group::client_signature_content(&crafted, index)
            .ctx("ClientSignature content")?;
        let by_intruder = intruder
            .sign(&content)
            .map_err(|e| Failure(format!("signing: {e:?}")))?;
        for (how, signature) in [
            ("with a flipped signature byte", flipped),
            ("with an empty signature", Vec::new()),
            ("signed by another key", by_intruder),
        ] {
            let forged = with_signature(crafted.clone(), index, signature)?;
            ds_refused(
                &raw,
                &domain,
                encode_ds(&forged)?,
                DsErrorCode::InvalidClientSignature,
                &format!("{what} {how}"),
            )
            .await?;
        }
        let mut unsigned = crafted.clone();
        unsigned.auth = DsAuthData::Anonymous;
        ds_refused(
            &raw,
            &domain,
            encode_ds(&unsigned)?,
            DsErrorCode::WrongAuthType,
            &format!("{what} without a ClientSignature"),
        )
        .await?;
    }
    goes_on(
        &alice,
        &bob,
        &group,
        &before,
        "the forged requests",
        b"genuine",
    )
    .await
}

async fn wrong_leaf(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let before = unacked(&bob, &group).await?;
    let alice_leaf = alice.leaf_index(&group).await.ctx("alice's leaf")?;
    let bob_leaf = bob.leaf_index(&group).await.ctx("bob's leaf")?;
    ensure!(
        alice_leaf != bob_leaf,
        "alice and bob share leaf {alice_leaf}"
    );

    // Alice's message under her own key, claiming Bob's leaf.
    let message = alice
        .craft_message(&group, b"as bob")
        .await
        .ctx("craft_message")?;
    let claimed = alice
        .sign_as_leaf(message.body.clone(), bob_leaf)
        .await
        .ctx("sign_as_leaf")?;
    ds_refused(
        &raw,
        &domain,
        encode_ds(&claimed)?,
        DsErrorCode::InvalidClientSignature,
        "alice's message signed by alice as bob's leaf",
    )
    .await?;

    // Alice's commit, validly signed by Bob as his own leaf.
    let commit = alice.craft_update(&group).await.ctx("craft_update")?;
    let relayed = bob
        .sign_as_leaf(commit.body.clone(), bob_leaf)
        .await
        .ctx("sign_as_leaf")?;
    ds_refused(
        &raw,
        &domain,
        encode_ds(&relayed)?,
        DsErrorCode::SenderMismatch,
        "alice's update commit signed by bob as his leaf",
    )
    .await?;
    goes_on(
        &alice,
        &bob,
        &group,
        &before,
        "the requests of the wrong leaf",
        b"as myself",
    )
    .await
}

async fn non_member(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let outsider = ctx.client(&ctx.a(), "mallory", "laptop").await?;
    let before = unacked(&bob, &group).await?;
    let alice_leaf = alice.leaf_index(&group).await.ctx("alice's leaf")?;
    let bob_leaf = bob.leaf_index(&group).await.ctx("bob's leaf")?;
    // The outsider has no state of the group: it signs a message a member
    // made, as a leaf the group does not have and as each member's leaf.
    let message = alice
        .craft_message(&group, b"intruding")
        .await
        .ctx("craft_message")?;
    let beyond = alice_leaf.max(bob_leaf) + 1;
    for (index, want) in [
        (beyond, DsErrorCode::UnknownSender),
        (beyond + 100, DsErrorCode::UnknownSender),
        (alice_leaf, DsErrorCode::InvalidClientSignature),
        (bob_leaf, DsErrorCode::InvalidClientSignature),
    ] {
        let signed = outsider
            .sign_as_leaf(message.body.clone(), index)
            .await
            .ctx("sign_as_leaf")?;
        ds_refused(
            &raw,
            &domain,
            encode_ds(&signed)?,
            want,
            &format!("a non-member's message as leaf {index}"),
        )
        .await?;
    }
    unchanged(&bob, &group, &before, "the non-member's messages").await?;
    alice
        .send(&group, b"members only")
        .await
        .ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"members only").await?;
    quiet(&bob).await
}

async fn altered_commit(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let before = unacked(&bob, &group).await?;
    let leaf = alice.leaf_index(&group).await.ctx("alice's leaf")?;
    let spoilers: [(&str, Spoiler); 2] = [
        ("a byte of the path's key flipped", spoil_path),
        ("a byte of its MLS signature flipped", spoil_signature),
    ];
    for (how, spoil) in spoilers {
        let crafted = alice.craft_update(&group).await.ctx("craft_update")?;
        // Re-signed properly: only the commit inside is wrong.
        let request = alice
            .sign_as_leaf(altered_update(crafted, spoil)?, leaf)
            .await
            .ctx("sign_as_leaf")?;
        ds_refused(
            &raw,
            &domain,
            encode_ds(&request)?,
            DsErrorCode::InvalidCommit,
            &format!("an update commit with {how}"),
        )
        .await?;
    }
    unchanged(&bob, &group, &before, "the altered commits").await?;
    alice.update(&group).await.ctx("alice's genuine update")?;
    bob.update(&group).await.ctx("bob's update")?;
    alice.send(&group, b"new epoch").await.ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"new epoch").await?;
    bob.send(&group, b"indeed").await.ctx("bob sends")?;
    expect_message(&alice, &group, bob.id(), b"indeed").await
}

async fn stale_epoch(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let message = alice
        .craft_message(&group, b"too late")
        .await
        .ctx("craft_message")?;
    let commit = alice.craft_update(&group).await.ctx("craft_update")?;
    bob.update(&group).await.ctx("bob's update")?;
    let before = unacked(&bob, &group).await?;
    for (what, request) in [("a message", &message), ("an update commit", &commit)] {
        ds_refused(
            &raw,
            &domain,
            encode_ds(request)?,
            DsErrorCode::WrongEpoch,
            &format!("{what} of the epoch before bob's commit"),
        )
        .await?;
    }
    unchanged(&bob, &group, &before, "the stale requests").await?;
    alice.send(&group, b"in time").await.ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"in time").await?;
    quiet(&bob).await
}

async fn replay_ds(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let domain = home(&group)?;
    let request = alice
        .craft_message(&group, b"once")
        .await
        .ctx("craft_message")?;
    let mls = application_message(&request)?;
    let bytes = encode_ds(&request)?;
    ds_accepted(&raw, &domain, bytes.clone(), "the send_message").await?;
    let first = unacked(&bob, &group).await?;
    let stored = |log: &[(u64, Vec<u8>)]| log.iter().filter(|e| e.1 == mls).count();
    ensure!(
        stored(&first) == 1,
        "the message is logged {} times",
        stored(&first)
    );
    // The copy: a ClientSignature carries no nonce (spec §7.1), so a DS
    // answers a message it already logged in this epoch with ok and does
    // not log it again (spec §8.11).
    let answer = raw.post(&domain, DS_PATH, bytes).await.ctx("the copy")?;
    match DsResponse::decode(&answer)
        .ctx("decoding the DSResponse")?
        .body
    {
        DsResponseBody::Ok => unchanged(&bob, &group, &first, "the repeated send").await?,
        other => {
            return Err(Failure(format!(
                "the copy of an accepted send_message: expected ok, got {other:?}"
            )));
        }
    }
    expect_message(&bob, &group, alice.id(), b"once").await?;
    quiet(&bob).await?;
    // The group goes on.
    alice.send(&group, b"twice?").await.ctx("alice sends")?;
    expect_message(&bob, &group, alice.id(), b"twice?").await
}

// ---------------------------------------------------------------------------
// The queue.

async fn replay_qs(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "ann", "laptop").await?;
        let count = QsRequestBody::KeyPackageCount(KeyPackageCountRequest {
            kind: KeyPackageKind::Regular,
        });
        for (what, body) in [("sync", sync_body()), ("key_package_count", count)] {
            let request = client
                .sign_queue_request(body, now())
                .await
                .ctx("signing")?;
            let bytes = encode_qs(&request)?;
            let first = qs_post(&raw, &domain, bytes.clone(), what).await?;
            ensure!(
                !matches!(first, QsResponseBody::Error(_)),
                "the first {what} to {domain} was refused: {first:?}"
            );
            qs_refused(
                &raw,
                &domain,
                bytes,
                DsErrorCode::ReplayedRequest,
                &format!("the same {what} again"),
            )
            .await?;
        }
        // The client's own next requests still work.
        client.sync().await.ctx("a fresh sync")?;
    }
    Ok(())
}

async fn stale_qs(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    // Over an hour, beyond the largest freshness window a DS may have.
    const HOUR: u64 = 3600 + 60;
    for domain in [ctx.a(), ctx.b()] {
        let client = ctx.client(&domain, "ann", "laptop").await?;
        for (what, timestamp) in [
            ("a sync dated an hour ago", now() - HOUR),
            ("a sync dated in an hour", now() + HOUR),
        ] {
            let request = client
                .sign_queue_request(sync_body(), timestamp)
                .await
                .ctx("signing")?;
            qs_refused(
                &raw,
                &domain,
                encode_qs(&request)?,
                DsErrorCode::StaleRequest,
                what,
            )
            .await?;
        }
        let fresh = qs_post(
            &raw,
            &domain,
            encode_qs(&signed_sync(&client).await?)?,
            "a fresh sync",
        )
        .await?;
        ensure!(
            matches!(fresh, QsResponseBody::Page(_)),
            "a fresh sync to {domain} after the stale ones: {fresh:?}"
        );
    }
    Ok(())
}

async fn unknown_client(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let key = stranger()?;
    for (domain, other) in [(ctx.a(), ctx.b()), (ctx.b(), ctx.a())] {
        let ghost = ctx.client_id(&ctx.user(&domain, "ghost"), "phone")?;
        let foreign = ctx.client_id(&ctx.user(&other, "ghost"), "phone")?;
        for (who, id) in [
            ("a client never registered", &ghost),
            ("a client of the other domain", &foreign),
        ] {
            let request = signed_by(&key, id, sync_body())?;
            qs_refused(
                &raw,
                &domain,
                encode_qs(&request)?,
                DsErrorCode::UnknownClient,
                &format!("a sync of {who}"),
            )
            .await?;
        }
        // Registration is for the DS's own clients only.
        let register = QsRequestBody::RegisterClient(RegisterClientRequest {
            signature_scheme: SIGNATURE_SCHEME_ED25519,
            signature_key: ds_core::wire::Bytes::new(key.public().to_vec()).ctx("key")?,
            registration_token: ShortBytes::default(),
        });
        let request = signed_by(&key, &foreign, register)?;
        qs_refused(
            &raw,
            &domain,
            encode_qs(&request)?,
            DsErrorCode::UnknownClient,
            "registering a client of the other domain",
        )
        .await?;
        // Still unknown afterwards: nothing was registered.
        let request = signed_by(&key, &foreign, sync_body())?;
        qs_refused(
            &raw,
            &domain,
            encode_qs(&request)?,
            DsErrorCode::UnknownClient,
            "a sync after the refused registration",
        )
        .await?;
    }
    Ok(())
}

async fn others_queue(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let a = ctx.a();
    let (alice, bob, group) = super::cs::pair(&ctx).await?;
    let thief = ctx.client(&a, "mallory", "laptop").await?;
    let bob_id = bob.id().clone();
    // Bob is offline while a message waits for him.
    drop(bob);
    alice.send(&group, b"for bob").await.ctx("alice sends")?;
    let far = 1u64 << 40;
    let ack = QsRequestBody::Ack(AckRequest {
        positions: QueuePositions {
            groups: List::new(vec![GroupPosition {
                group_id: group.clone(),
                sequence: far,
            }])
            .ctx("positions")?,
            inbox: far,
        },
    });
    let key = stranger()?;
    for (what, body) in [("sync", sync_body()), ("ack", ack)] {
        // Signed in Bob's name with another key.
        let request = signed_by(&key, &bob_id, body.clone())?;
        qs_refused(
            &raw,
            &a,
            encode_qs(&request)?,
            DsErrorCode::InvalidRequestSignature,
            &format!("a {what} in bob's name signed by another key"),
        )
        .await?;
        // Signed by a registered client of the DS, relabelled as Bob's.
        let mut request = thief.sign_queue_request(body, now()).await.ctx("signing")?;
        request.auth.client_id = bob_id.clone();
        qs_refused(
            &raw,
            &a,
            encode_qs(&request)?,
            DsErrorCode::InvalidRequestSignature,
            &format!("{}'s {what} relabelled as bob's", thief.id()),
        )
        .await?;
    }
    let bob = ctx.client(&a, "bob", "phone").await?;
    expect_message(&bob, &group, alice.id(), b"for bob").await
}

async fn publish_as_other(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    for domain in [ctx.a(), ctx.b()] {
        let publisher = ctx.client(&domain, "xavier", "laptop").await?;
        let victim = ctx.client(&domain, "yvonne", "phone").await?;
        let before = key_package_count(&publisher).await?;
        // One of the victim's genuine key packages, as its DS hands it out.
        let fetch = DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::KeyPackages(KeyPackagesRequest {
                client_ids: List::new(vec![victim.id().clone()]).ctx("client ids")?,
            }),
            auth: DsAuthData::Anonymous,
        };
        let answer = raw
            .post(&domain, DS_PATH, encode_ds(&fetch)?)
            .await
            .ctx("key_packages")?;
        let genuine = match DsResponse::decode(&answer).ctx("decoding")?.body {
            DsResponseBody::KeyPackages(kps) => match kps.key_packages.as_slice() {
                [DsKeyPackage::MlsKeyPackage(bytes)] => bytes.as_slice().to_vec(),
                other => return Err(Failure(format!("key_packages answered {other:?}"))),
            },
            other => return Err(Failure(format!("key_packages answered {other:?}"))),
        };
        let encode = |kp: openmls::prelude::KeyPackage| {
            MlsMessageOut::from(kp)
                .tls_serialize_detached()
                .ctx("encoding a key package")
        };
        let named_victim = encode(forge::key_package(victim.id(), None)?)?;
        let foreign_key = encode(forge::key_package(publisher.id(), None)?)?;
        for (what, bytes) in [
            ("the victim's genuine key package", genuine),
            ("a key package naming the victim", named_victim),
            (
                "a key package of the publisher under another key",
                foreign_key,
            ),
        ] {
            let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
                key_packages: List::new(vec![KeyPackageUpload {
                    kind: KeyPackageKind::Regular,
                    key_package: MlsBytes::new(bytes).ctx("key package")?,
                }])
                .ctx("key packages")?,
            });
            let request = publisher
                .sign_queue_request(body, now())
                .await
                .ctx("signing")?;
            qs_refused(
                &raw,
                &domain,
                encode_qs(&request)?,
                DsErrorCode::InvalidKeyPackage,
                &format!("publishing {what}"),
            )
            .await?;
        }
        let after = key_package_count(&publisher).await?;
        ensure!(
            after == before,
            "{}: {before} key packages before the refused uploads, {after} after",
            publisher.id()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Transport.

async fn plain_http(ctx: Ctx) -> Outcome {
    for domain in [ctx.a(), ctx.b()] {
        let address = ctx.address(&domain);
        let mut stream = tokio::time::timeout(
            Duration::from_secs(10),
            tokio::net::TcpStream::connect(address.as_str()),
        )
        .await
        .ctx(format!("connecting to {address}"))?
        .ctx(format!("connecting to {address}"))?;
        let request = format!(
            "POST /mimi/v1/ds HTTP/1.1\r\nHost: {domain}\r\nContent-Type: application/mimi-ds\r\n\
             Content-Length: 2\r\nConnection: close\r\n\r\n\x00\x01"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .ctx(format!("writing to {address}"))?;
        // Whatever comes back until the DS closes, resets, or falls silent.
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while answer.len() < 4096 {
            match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut chunk)).await {
                Ok(Ok(0) | Err(_)) | Err(_) => break,
                Ok(Ok(n)) => answer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            }
        }
        ensure!(
            !answer.starts_with(b"HTTP/"),
            "{domain} answered plain HTTP on its TLS port: {:?}",
            String::from_utf8_lossy(&answer)
        );
        // A TLS alert record (content type 21) or nothing at all.
        ensure!(
            answer.is_empty() || answer.first() == Some(&0x15),
            "{domain} answered plain HTTP with neither a TLS alert nor silence: {:02x?}",
            answer.get(..answer.len().min(16))
        );
    }
    Ok(())
}
