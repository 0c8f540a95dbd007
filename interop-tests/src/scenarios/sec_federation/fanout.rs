//! Forged fan-outs claiming to come from A, signed by a key of nobody's and
//! posted to B's `/mimi/v1/fanout`: malformed, of another version,
//! misaddressed, from B itself, stale, from an unreachable domain, under an
//! unknown key or with a bad signature, and the order of those checks
//! (spec §11.2).

use ds_client_sdk::{ClientId, Domain, DsErrorCode, GroupId};
use ds_core::wire::{
    DsFanoutEntry, DsFanoutRequest, FanoutEntryKind, List, ProtocolVersion, ShortBytes,
};
use ds_federation::DsKey;
use tls_codec::Serialize as _;

use super::{Fed, HOUR, fed, random, short};
use crate::ctx::Ctx;
use crate::forge;
use crate::raw::fanout_refusal;
use crate::scenario::{Context as _, Failure, Outcome, ensure};

/// Sequence numbers the forged fan-outs fill, from 1: more than the few
/// entries a fresh group's log holds, so they cover its next ones.
const FORGED_SEQUENCES: u64 = 8;

/// A domain no DS of the target serves and no resolver knows (RFC 6761).
const GONE: &str = "ds-gone.invalid";

/// A third domain.
const THIRD: &str = "ds-c.invalid";

impl Fed {
    /// The forged entries: group messages 1 to [`FORGED_SEQUENCES`] (the
    /// first lists bob, the others mean the same set) and a Welcome for bob.
    fn entries(&self, group: &GroupId) -> Result<Vec<DsFanoutEntry>, Failure> {
        let bob = [self.bob.id().clone()];
        let mut entries = Vec::new();
        for sequence in 1..=FORGED_SEQUENCES {
            let recipients: &[ClientId] = if sequence == 1 { &bob } else { &[] };
            entries.push(forge::entry(group, sequence, recipients, &self.message)?);
        }
        let mut welcome = forge::entry(group, FORGED_SEQUENCES, &bob, &self.message)?;
        welcome.kind = FanoutEntryKind::Welcome;
        entries.push(welcome);
        Ok(entries)
    }

    /// A fan-out from A to B, now, of the forged entries of the group,
    /// changed by `edit` and then signed by a stranger key over what it
    /// claims (the stranger's key id unless `edit` set another).
    fn forged(&self, edit: impl FnOnce(&mut DsFanoutRequest)) -> Result<DsFanoutRequest, Failure> {
        let key = forge::stranger_key()?;
        let entries = self.entries(&self.group)?;
        let mut request = forge::fanout(&self.ctx.a(), &self.ctx.b(), forge::now(), entries, &key)?;
        edit(&mut request);
        sign_as_is(&mut request, &key)?;
        Ok(request)
    }

    /// Posts `request` to B, which must refuse it with `want`.
    async fn refused(&self, what: &str, request: &DsFanoutRequest, want: DsErrorCode) -> Outcome {
        let body = request.encode().ctx(format!("{what}: encoding"))?;
        self.refused_bytes(what, body, want).await
    }

    /// Posts `body` to B's fan-out endpoint, which must refuse it with `want`.
    async fn refused_bytes(&self, what: &str, body: Vec<u8>, want: DsErrorCode) -> Outcome {
        let got = fanout_refusal(&self.raw, &self.ctx.b(), body)
            .await
            .ctx(what)?;
        ensure!(got == want, "{what}: expected {want:?}, got {got:?}");
        Ok(())
    }
}

/// Signs `request` with `key` over what it claims, key id included,
/// whatever that key id is.
fn sign_as_is(request: &mut DsFanoutRequest, key: &DsKey) -> Outcome {
    let content = request.signed_content().ctx("the signed content")?;
    request.signature = ShortBytes::new(key.sign(&content).to_vec()).ctx("the signature")?;
    Ok(())
}

fn domain(name: &str) -> Result<Domain, Failure> {
    Domain::new(name).ctx(format!("domain {name}"))
}

pub(super) async fn garbage(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let malformed = DsErrorCode::MalformedMessage;
    // Version 1, then anything: the version is all a receiver may skip on.
    let mut noise = vec![0, 1];
    noise.extend(random(64)?);
    f.refused_bytes("version 1 and random bytes", noise, malformed)
        .await?;
    f.refused_bytes("an empty body", Vec::new(), malformed)
        .await?;
    f.refused_bytes("one byte", vec![0], malformed).await?;
    let request = f.forged(|_| {})?;
    let bytes = request.encode().ctx("encoding")?;
    let mut truncated = bytes.clone();
    truncated.pop();
    f.refused_bytes("a request cut one byte short", truncated, malformed)
        .await?;
    let mut trailing = bytes.clone();
    trailing.push(0);
    f.refused_bytes("a request with a trailing byte", trailing, malformed)
        .await?;
    let unknown_kind = with_unknown_kind(&request, bytes)?;
    f.refused_bytes("an entry of kind 7", unknown_kind, malformed)
        .await?;
    f.nothing_stored("malformed fan-outs").await
}

/// `bytes` (the encoding of `request`) with its first entry's kind set to
/// 7, which `FanoutEntryKind` does not define.
fn with_unknown_kind(request: &DsFanoutRequest, mut bytes: Vec<u8>) -> Result<Vec<u8>, Failure> {
    let entry = request
        .entries
        .as_slice()
        .first()
        .ok_or_else(|| Failure("a forged request without entries".into()))?;
    let encoded = entry.tls_serialize_detached().ctx("encoding an entry")?;
    let group = entry
        .group_id
        .tls_serialize_detached()
        .ctx("encoding a group id")?;
    let at = bytes
        .windows(encoded.len())
        .position(|w| w == encoded.as_slice())
        .ok_or_else(|| Failure("the entry is not in the request's encoding".into()))?;
    // group_id, then the uint64 sequence, then the kind.
    let kind = at + group.len() + 8;
    let byte = bytes
        .get_mut(kind)
        .ok_or_else(|| Failure("the kind is past the request's end".into()))?;
    *byte = 7;
    Ok(bytes)
}

pub(super) async fn version(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    for number in [0u16, 2, 0xffff] {
        let request = f.forged(|r| r.version = ProtocolVersion(number))?;
        f.refused(
            &format!("version {number}"),
            &request,
            DsErrorCode::UnsupportedVersion,
        )
        .await?;
    }
    // A receiver stops at a version it does not speak: what follows is
    // not read, so it need not even decode.
    let mut noise = vec![0, 2];
    noise.extend(random(64)?);
    f.refused_bytes(
        "version 2 and random bytes",
        noise,
        DsErrorCode::UnsupportedVersion,
    )
    .await?;
    f.nothing_stored("fan-outs of unknown versions").await
}

pub(super) async fn wrong_destination(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    for to in [domain(THIRD)?, ctx.a()] {
        let request = f.forged(|r| r.recipient_domain = to.clone())?;
        f.refused(
            &format!("a fan-out for {to}"),
            &request,
            DsErrorCode::WrongDestination,
        )
        .await?;
    }
    f.nothing_stored("misaddressed fan-outs").await
}

pub(super) async fn self_sender(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let b = ctx.b();
    let request = f.forged(|r| r.sender = b.clone())?;
    f.refused(
        "a fan-out from B, stranger's key",
        &request,
        DsErrorCode::NotOwningDomain,
    )
    .await?;
    // Claiming B's own key: a DS that looked its own keys up would get as
    // far as the signature.
    let own = f.current_key_id(&b).await?;
    let own = short(&own)?;
    let request = f.forged(|r| {
        r.sender = b.clone();
        r.key_id = own;
    })?;
    f.refused(
        "a fan-out from B, B's key id",
        &request,
        DsErrorCode::NotOwningDomain,
    )
    .await?;
    // The group of the entries is B's too: nothing but the sender is off.
    let mut request = f.forged(|r| r.sender = b.clone())?;
    let ours = GroupId::from_parts("forged", &b).ctx("a group id of B")?;
    request.entries = List::new(f.entries(&ours)?).ctx("entries")?;
    sign_as_is(&mut request, &forge::stranger_key()?)?;
    f.refused(
        "a fan-out from B for a group of B",
        &request,
        DsErrorCode::NotOwningDomain,
    )
    .await?;
    f.nothing_stored("fan-outs from B itself").await
}

pub(super) async fn stale(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let now = forge::now();
    for (what, timestamp) in [
        ("an hour ago", now - HOUR),
        ("an hour ahead", now + HOUR),
        ("at 0", 0),
    ] {
        let request = f.forged(|r| r.timestamp = timestamp)?;
        f.refused(
            &format!("a fan-out stamped {what}"),
            &request,
            DsErrorCode::StaleRequest,
        )
        .await?;
    }
    f.nothing_stored("stale fan-outs").await
}

pub(super) async fn unreachable_sender(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let gone = domain(GONE)?;
    // Its entries are of the claimed sender's group, so only the keys (and,
    // after them, the signature) are wrong.
    let group = GroupId::from_parts("lost", &gone).ctx("a group id")?;
    let mut request = f.forged(|r| r.sender = gone.clone())?;
    request.entries = List::new(f.entries(&group)?).ctx("entries")?;
    sign_as_is(&mut request, &forge::stranger_key()?)?;
    f.refused(
        &format!("a fan-out from {gone}"),
        &request,
        DsErrorCode::PeerUnavailable,
    )
    .await?;
    f.nothing_stored("fan-out of an unreachable domain").await
}

pub(super) async fn unknown_key(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let a_key = f.current_key_id(&ctx.a()).await?;
    let b_key = f.current_key_id(&ctx.b()).await?;
    let mut near = a_key.clone();
    if let Some(last) = near.last_mut() {
        *last ^= 1;
    }
    let cases = [
        ("the stranger's own key id", None),
        ("no key id", Some(Vec::new())),
        ("B's current key id", Some(b_key)),
        ("A's current key id with one bit flipped", Some(near)),
    ];
    for (what, key_id) in cases {
        let key_id = key_id.map(|id| short(&id)).transpose()?;
        let request = f.forged(|r| {
            if let Some(id) = key_id {
                r.key_id = id;
            }
        })?;
        f.refused(what, &request, DsErrorCode::UnknownSigningKey)
            .await?;
    }
    f.nothing_stored("fan-outs under unknown keys").await
}

pub(super) async fn bad_signature(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let a_key = short(&f.current_key_id(&ctx.a()).await?)?;
    let signed = f.forged(|r| r.key_id = a_key.clone())?;
    f.refused(
        "A's key id, a stranger's signature",
        &signed,
        DsErrorCode::InvalidDsSignature,
    )
    .await?;
    let mut unsigned = signed.clone();
    unsigned.signature = ShortBytes::default();
    f.refused(
        "A's key id, no signature",
        &unsigned,
        DsErrorCode::InvalidDsSignature,
    )
    .await?;
    let mut zeros = signed;
    zeros.signature = short(&[0; 64])?;
    f.refused(
        "A's key id, 64 zero bytes",
        &zeros,
        DsErrorCode::InvalidDsSignature,
    )
    .await?;
    f.nothing_stored("fan-outs with bad signatures").await
}

pub(super) async fn check_order(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let (a, b) = (ctx.a(), ctx.b());
    let third = domain(THIRD)?;
    let a_key = short(&f.current_key_id(&a).await?)?;
    // Everything wrong; each step fixes the check refused before, and the
    // next one must answer.
    let mut claim = DsFanoutRequest {
        version: ProtocolVersion(2),
        recipient_domain: third,
        sender: b.clone(),
        timestamp: forge::now() - HOUR,
        ..f.forged(|_| {})?
    };
    let steps: [(&str, DsErrorCode, &Fix<'_>); 6] = [
        ("everything wrong", DsErrorCode::UnsupportedVersion, &|_| {}),
        ("version 1", DsErrorCode::WrongDestination, &|r| {
            r.version = ProtocolVersion::V1;
        }),
        ("and addressed to B", DsErrorCode::NotOwningDomain, &|r| {
            r.recipient_domain = b.clone();
        }),
        ("and from A", DsErrorCode::StaleRequest, &|r| {
            r.sender = a.clone();
        }),
        ("and fresh", DsErrorCode::UnknownSigningKey, &|r| {
            r.timestamp = forge::now();
        }),
        (
            "and naming A's key",
            DsErrorCode::InvalidDsSignature,
            &|r| {
                r.key_id = a_key.clone();
            },
        ),
    ];
    for (what, want, fix) in steps {
        fix(&mut claim);
        sign_as_is(&mut claim, &forge::stranger_key()?)?;
        f.refused(what, &claim, want).await?;
    }
    f.nothing_stored("fan-outs failing several checks").await
}

/// A change to a forged fan-out.
type Fix<'a> = dyn Fn(&mut DsFanoutRequest) + Sync + 'a;
