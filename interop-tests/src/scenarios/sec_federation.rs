//! Hostile federation input, each answered with the exact error code of
//! spec §10 and storing nothing. Everything here is made without any DS's
//! private key:
//!
//! - fan-outs claiming to come from A, signed by a key of nobody's, posted
//!   to B's `/mimi/v1/fanout`: every check of §11.2 that such a request can
//!   reach (version, destination, sender, freshness, key, signature), and
//!   their order;
//! - AddUsers commits posted to A that add a B client without its home DS's
//!   voucher, or with a voucher of another client or key, or an edited one
//!   (§11.4);
//! - `vouched_client` requests to A with such vouchers (§7.5).
//!
//! Each scenario sets up a real cross-domain group: alice of A owns it and
//! bob of B is in it. The forged fan-outs name that group, bob as recipient,
//! and the sequence numbers the group's log uses next, carrying a message
//! alice built (so bob could read it). After the refusals bob has received
//! nothing, and alice's next message is bob's next event: had a forged
//! entry been stored under one of those numbers, A's real fan-out of that
//! number would conflict with it and never reach bob.

use ds_client_sdk::{Client, ClientId, Domain, DsErrorCode, GroupId};
use ds_core::wire::{
    ClientVoucher, DsAuthData, DsFanoutEntry, DsFanoutRequest, DsKeyPackage, DsRequest,
    DsRequestBody, DsResponse, DsResponseBody, ExternalCommitInfoRequest, FanoutEntryKind,
    KeyPackagesRequest, List, ProtocolVersion, ShortBytes, VOUCHER_EXTENSION_TYPE,
};
use ds_federation::{DsKey, PeerClient};
use openmls::prelude::{
    BasicCredential, Capabilities, CredentialWithKey, Extension, ExtensionType, Extensions,
    KeyPackage, MlsMessageBodyIn, MlsMessageIn, UnknownExtension,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{DeserializeBytes as _, Serialize as _};

use crate::ctx::Ctx;
use crate::events::{expect_message, joined, quiet};
use crate::forge;
use crate::raw::{DS_PATH, ds_refusal, fanout_refusal};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "SEC-FED-GARBAGE",
            "fanout: bytes that are no DSFanoutRequest (random, truncated, trailing, unknown enum) -> MalformedMessage",
            garbage
        ),
        scenario!(
            "SEC-FED-VERSION",
            "fanout: a request of version 0, 2 or 0xffff, whatever follows the version -> UnsupportedVersion",
            version
        ),
        scenario!(
            "SEC-FED-WRONG-DESTINATION",
            "fanout: a request from A addressed to a third domain or to A, posted to B -> WrongDestination",
            wrong_destination
        ),
        scenario!(
            "SEC-FED-SELF-SENDER",
            "fanout: a request claiming to come from B itself, posted to B -> NotOwningDomain",
            self_sender
        ),
        scenario!(
            "SEC-FED-STALE",
            "fanout: a request from A stamped an hour ago, an hour ahead or at 0 -> StaleRequest",
            stale
        ),
        scenario!(
            "SEC-FED-UNREACHABLE-SENDER",
            "fanout: a request from a domain whose DS cannot be reached for its keys -> PeerUnavailable",
            unreachable_sender
        ),
        scenario!(
            "SEC-FED-UNKNOWN-KEY",
            "fanout: a request from A naming a key id A does not publish (a stranger's, B's, none) -> UnknownSigningKey",
            unknown_key
        ),
        scenario!(
            "SEC-FED-BAD-SIGNATURE",
            "fanout: a request from A naming A's current key, signed by another key or not at all -> InvalidDsSignature",
            bad_signature
        ),
        scenario!(
            "SEC-FED-CHECK-ORDER",
            "fanout: a request failing several checks is refused with the first of spec §11.2's order",
            check_order
        ),
        scenario!(
            "SEC-FED-UNVOUCHED",
            "add_users: a key package of a B client without voucher, posted to A -> UnvouchedClient",
            unvouched
        ),
        scenario!(
            "SEC-FED-FOREIGN-VOUCHER",
            "add_users: a B key package carrying a real voucher of another B client or key -> UnvouchedClient",
            foreign_voucher
        ),
        scenario!(
            "SEC-FED-FORGED-VOUCHER",
            "add_users: a B key package with an edited voucher (signature, key, issuer, expiry...) -> UnvouchedClient",
            forged_voucher
        ),
        scenario!(
            "SEC-FED-VOUCHED-REQUEST",
            "external_commit_info as vouched_client with a foreign key or voucher, or stale -> its typed error",
            vouched_request
        ),
    ]
}

/// Sequence numbers the forged fan-outs fill, from 1: more than the few
/// entries a fresh group's log holds, so they cover its next ones.
const FORGED_SEQUENCES: u64 = 8;

/// An hour, far outside any freshness window.
const HOUR: u64 = 3600;

/// A domain no DS of the target serves and no resolver knows (RFC 6761).
const GONE: &str = "ds-gone.invalid";

/// A third domain.
const THIRD: &str = "ds-c.invalid";

/// A cross-domain group: alice of A owns it, bob of B is in it.
struct Fed {
    ctx: Ctx,
    raw: PeerClient,
    alice: Client,
    bob: Client,
    group: GroupId,
    /// An application message of alice's in the group, built and never
    /// sent: what the forged entries carry.
    message: Vec<u8>,
}

async fn fed(ctx: &Ctx) -> Result<Fed, Failure> {
    let (a, b) = (ctx.a(), ctx.b());
    let bob = ctx.client(&b, "bob", "phone").await?;
    let alice = ctx.client(&a, "alice", "laptop").await?;
    let group = alice.create_group("across").await.ctx("create_group")?;
    alice
        .invite_users(&group, &[ctx.user(&b, "bob")])
        .await
        .ctx("alice invites bob of B")?;
    let joined_group = joined(&bob).await?;
    ensure!(
        joined_group == group,
        "bob joined {joined_group}, not {group}"
    );
    let crafted = alice
        .craft_message(&group, b"forged")
        .await
        .ctx("crafting alice's message")?;
    let DsRequestBody::SendMessage(send) = crafted.body else {
        return Err(Failure("craft_message built no send_message".into()));
    };
    Ok(Fed {
        ctx: ctx.clone(),
        raw: ctx.raw()?,
        alice,
        bob,
        group,
        message: send.application_message.into_vec(),
    })
}

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

    /// Nothing was stored: bob got no event, and alice's next message is
    /// bob's next event.
    async fn nothing_stored(&self, tag: &str) -> Outcome {
        quiet(&self.bob).await?;
        let body = format!("after the {tag}");
        self.alice
            .send(&self.group, body.as_bytes())
            .await
            .ctx("alice's legitimate message")?;
        expect_message(&self.bob, &self.group, self.alice.id(), body.as_bytes()).await
    }

    /// The current key of `domain`, as it publishes it.
    async fn current_key_id(&self, domain: &Domain) -> Result<Vec<u8>, Failure> {
        let keys = self
            .raw
            .signature_public_keys(domain)
            .await
            .ctx(format!("signature_public_key of {domain}"))?;
        keys.first()
            .map(|key| key.key_id.as_slice().to_vec())
            .ok_or_else(|| Failure(format!("{domain} publishes no key")))
    }

    /// Posts alice's AddUsers commit of `key_package` to A, which must
    /// refuse it with `want`.
    async fn add_refused(&self, what: &str, key_package: KeyPackage, want: DsErrorCode) -> Outcome {
        let request = self
            .alice
            .craft_add(&self.group, vec![key_package])
            .await
            .ctx(format!("{what}: crafting the commit"))?;
        match self.alice.post_ds(&self.ctx.a(), &request).await {
            Ok(answer) => Err(Failure(format!(
                "{what}: expected {want:?}, A accepted: {answer:?}"
            ))),
            Err(e) => {
                ensure!(e.code() == Some(want), "{what}: expected {want:?}, got {e}");
                Ok(())
            }
        }
    }

    /// After refused adds: bob saw nothing, a commit at the same epoch
    /// still succeeds, the group goes on, and both see alice and bob only.
    async fn group_unchanged(&self, tag: &str) -> Outcome {
        quiet(&self.bob).await?;
        self.alice
            .update(&self.group)
            .await
            .ctx("alice's commit at the epoch of the refused ones")?;
        let body = format!("after the {tag}");
        self.alice
            .send(&self.group, body.as_bytes())
            .await
            .ctx("alice's legitimate message")?;
        expect_message(&self.bob, &self.group, self.alice.id(), body.as_bytes()).await?;
        let mut want = vec![self.alice.id().clone(), self.bob.id().clone()];
        want.sort();
        for member in [&self.alice, &self.bob] {
            let mut got = member.members(&self.group).await.ctx("members")?;
            got.sort();
            ensure!(
                got == want,
                "{}: members {got:?}, expected {want:?}",
                member.id()
            );
        }
        Ok(())
    }

    /// The real voucher of `client`, from a key package its home DS serves
    /// to anyone (`ds_key_packages`, anonymous, as spec §8.13 allows).
    async fn voucher(&self, client: &ClientId) -> Result<ClientVoucher, Failure> {
        let domain = Domain::new(client.domain()).ctx("the client's domain")?;
        let request = DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::KeyPackages(KeyPackagesRequest {
                client_ids: List::new(vec![client.clone()]).ctx("client ids")?,
            }),
            auth: DsAuthData::Anonymous,
        };
        let answer = self
            .raw
            .post(&domain, DS_PATH, request.encode().ctx("encoding")?)
            .await
            .ctx(format!("ds_key_packages of {client}"))?;
        let served = match DsResponse::decode(&answer).ctx("decoding")?.body {
            DsResponseBody::KeyPackages(served) => served.key_packages.into_vec(),
            other => return Err(Failure(format!("ds_key_packages answered {other:?}"))),
        };
        let [DsKeyPackage::MlsKeyPackage(bytes)] = served.as_slice() else {
            return Err(Failure(format!(
                "{} key packages served for one client",
                served.len()
            )));
        };
        let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes.as_slice())
            .ctx("decoding the served key package")?;
        let MlsMessageBodyIn::KeyPackage(key_package) = message.extract() else {
            return Err(Failure(
                "a served key package is another MLS message".into(),
            ));
        };
        let provider = OpenMlsRustCrypto::default();
        let key_package = key_package
            .validate(provider.crypto(), openmls::prelude::ProtocolVersion::Mls10)
            .ctx("validating the served key package")?;
        forge::voucher_of(&key_package)
            .ok_or_else(|| Failure(format!("{client}'s key package carries no voucher")))
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

fn short(bytes: &[u8]) -> Result<ShortBytes, Failure> {
    ShortBytes::new(bytes.to_vec()).ctx("short bytes")
}

fn random(len: usize) -> Result<Vec<u8>, Failure> {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).ctx("random bytes")?;
    Ok(bytes)
}

async fn garbage(ctx: Ctx) -> Outcome {
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

async fn version(ctx: Ctx) -> Outcome {
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

async fn wrong_destination(ctx: Ctx) -> Outcome {
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

async fn self_sender(ctx: Ctx) -> Outcome {
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

async fn stale(ctx: Ctx) -> Outcome {
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

async fn unreachable_sender(ctx: Ctx) -> Outcome {
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

async fn unknown_key(ctx: Ctx) -> Outcome {
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

async fn bad_signature(ctx: Ctx) -> Outcome {
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

async fn check_order(ctx: Ctx) -> Outcome {
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

/// Mallory of B, a client B never registered.
fn mallory(ctx: &Ctx) -> Result<ClientId, Failure> {
    ctx.client_id(&ctx.user(&ctx.b(), "mallory"), "x")
}

async fn unvouched(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let key_package = forge::key_package(&mallory(&ctx)?, None)?;
    f.add_refused(
        "mallory of B without voucher",
        key_package,
        DsErrorCode::UnvouchedClient,
    )
    .await?;
    f.group_unchanged("unvouched add").await
}

async fn foreign_voucher(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let carol = ctx.client(&ctx.b(), "carol", "phone").await?;
    let voucher = f.voucher(carol.id()).await?;
    // §11.4 check 3: the voucher names another client.
    let key_package = forge::key_package(&mallory(&ctx)?, Some(&voucher))?;
    f.add_refused(
        "mallory under carol's voucher",
        key_package,
        DsErrorCode::UnvouchedClient,
    )
    .await?;
    // §11.4 check 5: the voucher is carol's, for another key.
    let key_package = forge::key_package(carol.id(), Some(&voucher))?;
    f.add_refused(
        "carol under another key with carol's voucher",
        key_package,
        DsErrorCode::UnvouchedClient,
    )
    .await?;
    f.group_unchanged("adds under borrowed vouchers").await?;
    quiet(&carol).await
}

async fn forged_voucher(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let carol = ctx.client(&ctx.b(), "carol", "phone").await?;
    let real = f.voucher(carol.id()).await?;
    let mallory = mallory(&ctx)?;
    let signer =
        SignatureKeyPair::new(openmls::prelude::SignatureScheme::ED25519).ctx("mallory's key")?;
    // Carol's real voucher rewritten for mallory and her key: its
    // signature no longer verifies (check 8).
    let rewritten = ClientVoucher {
        client_id: mallory.clone(),
        signature_key: ds_core::wire::Bytes::new(signer.public().to_vec()).ctx("key")?,
        ..real
    };
    let stranger = forge::stranger_key()?;
    let stranger_id = short(stranger.key_id())?;
    let b_key = short(&f.current_key_id(&ctx.b()).await?)?;
    let a_key = short(&f.current_key_id(&ctx.a()).await?)?;
    let resigned = |edit: &dyn Fn(&mut ClientVoucher)| -> Result<Vec<u8>, Failure> {
        let mut voucher = rewritten.clone();
        edit(&mut voucher);
        let content = voucher.signed_content().ctx("voucher content")?;
        voucher.signature = short(&stranger.sign(&content))?;
        voucher.tls_serialize_detached().ctx("encoding a voucher")
    };
    let mut cases = vec![
        (
            "carol's voucher rewritten for mallory's key",
            rewritten.tls_serialize_detached().ctx("encoding")?,
        ),
        (
            "signed by a stranger under B's key id",
            resigned(&|v| v.key_id = b_key.clone())?,
        ),
        (
            "signed by a key B does not publish",
            resigned(&|v| v.key_id = stranger_id.clone())?,
        ),
        (
            "issued by A, the owning DS, for a client of B",
            resigned(&|v| {
                v.issuer = ctx.a();
                v.key_id = a_key.clone();
            })?,
        ),
        (
            "expired a minute ago",
            resigned(&|v| v.not_after = forge::now() - 60)?,
        ),
        (
            "for an ECDSA key",
            resigned(&|v| v.signature_scheme = 0x0403)?,
        ),
    ];
    // §11.4 check 1: the extension must hold one voucher, nothing after.
    let mut trailing = rewritten.tls_serialize_detached().ctx("encoding")?;
    trailing.push(0);
    cases.push(("a voucher with a byte after it", trailing));
    let mut cut = rewritten.tls_serialize_detached().ctx("encoding")?;
    cut.truncate(cut.len() / 2);
    cases.push(("half a voucher", cut));
    for (what, extension) in cases {
        let key_package = key_package_with(&mallory, &signer, Some(extension))?;
        f.add_refused(
            &format!("mallory of B, {what}"),
            key_package,
            DsErrorCode::UnvouchedClient,
        )
        .await?;
    }
    f.group_unchanged("adds under forged vouchers").await
}

/// A key package of `client` signed by `signer`, whose leaf carries
/// `voucher` (any bytes) as its voucher extension; as `forge::key_package`
/// otherwise.
fn key_package_with(
    client: &ClientId,
    signer: &SignatureKeyPair,
    voucher: Option<Vec<u8>>,
) -> Result<KeyPackage, Failure> {
    let provider = OpenMlsRustCrypto::default();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(client.as_str().as_bytes().to_vec()).into(),
        signature_key: signer.public().into(),
    };
    let types = [
        ExtensionType::Unknown(VOUCHER_EXTENSION_TYPE),
        ExtensionType::Unknown(ds_client_sdk::GROUP_NAME_EXTENSION),
        ExtensionType::LastResort,
    ];
    let extensions = voucher
        .map(|bytes| Extension::Unknown(VOUCHER_EXTENSION_TYPE, UnknownExtension(bytes)))
        .into_iter()
        .collect();
    let bundle = KeyPackage::builder()
        .leaf_node_capabilities(Capabilities::new(None, None, Some(&types), None, None))
        .leaf_node_extensions(Extensions::from_vec(extensions).ctx("leaf extensions")?)
        .build(
            openmls::prelude::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
            &provider,
            signer,
            credential,
        )
        .ctx("building a key package")?;
    Ok(bundle.key_package().clone())
}

async fn vouched_request(ctx: Ctx) -> Outcome {
    let f = fed(&ctx).await?;
    let carol = ctx.client(&ctx.b(), "carol", "phone").await?;
    let dave = ctx.client(&ctx.a(), "dave", "tablet").await?;
    let carols = f.voucher(carol.id()).await?;
    let daves = f.voucher(dave.id()).await?;
    let signer =
        SignatureKeyPair::new(openmls::prelude::SignatureScheme::ED25519).ctx("a fresh key")?;
    let rewritten = ClientVoucher {
        client_id: mallory(&ctx)?,
        signature_key: ds_core::wire::Bytes::new(signer.public().to_vec()).ctx("key")?,
        ..carols.clone()
    };
    let now = forge::now();
    let cases = [
        // §7.5 check 2: A's own clients use registered_client.
        (
            "a voucher of A's own client",
            &daves,
            now,
            DsErrorCode::WrongAuthType,
        ),
        (
            "carol's voucher, stamped an hour ago",
            &carols,
            now - HOUR,
            DsErrorCode::StaleRequest,
        ),
        (
            "carol's voucher rewritten for another client and key",
            &rewritten,
            now,
            DsErrorCode::UnvouchedClient,
        ),
        // Check 6: carol's real voucher, but signed by a key not hers.
        (
            "carol's voucher, signed by another key",
            &carols,
            now,
            DsErrorCode::InvalidRequestSignature,
        ),
    ];
    for (what, voucher, timestamp, want) in cases {
        let body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: f.group.clone(),
        });
        let request = ds_core::queue::sign_vouched_request(
            body,
            voucher.clone(),
            timestamp,
            random(16)?,
            &signer,
        )
        .ctx(format!("{what}: signing"))?;
        let got = ds_refusal(&f.raw, &ctx.a(), request.encode().ctx("encoding")?)
            .await
            .ctx(what)?;
        ensure!(got == want, "{what}: expected {want:?}, got {got:?}");
    }
    f.nothing_stored("refused vouched requests").await
}
