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

mod fanout;
mod vouchers;

use ds_client_sdk::{Client, Domain, GroupId};
use ds_core::wire::{DsRequestBody, ShortBytes};
use ds_federation::PeerClient;

use crate::ctx::Ctx;
use crate::events::{expect_message, joined, quiet};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "SEC-FED-GARBAGE",
            "fanout: bytes that are no DSFanoutRequest (random, truncated, trailing, unknown enum) -> MalformedMessage",
            fanout::garbage
        ),
        scenario!(
            "SEC-FED-VERSION",
            "fanout: a request of version 0, 2 or 0xffff, whatever follows the version -> UnsupportedVersion",
            fanout::version
        ),
        scenario!(
            "SEC-FED-WRONG-DESTINATION",
            "fanout: a request from A addressed to a third domain or to A, posted to B -> WrongDestination",
            fanout::wrong_destination
        ),
        scenario!(
            "SEC-FED-SELF-SENDER",
            "fanout: a request claiming to come from B itself, posted to B -> NotOwningDomain",
            fanout::self_sender
        ),
        scenario!(
            "SEC-FED-STALE",
            "fanout: a request from A stamped an hour ago, an hour ahead or at 0 -> StaleRequest",
            fanout::stale
        ),
        scenario!(
            "SEC-FED-UNREACHABLE-SENDER",
            "fanout: a request from a domain whose DS cannot be reached for its keys -> PeerUnavailable",
            fanout::unreachable_sender
        ),
        scenario!(
            "SEC-FED-UNKNOWN-KEY",
            "fanout: a request from A naming a key id A does not publish (a stranger's, B's, none) -> UnknownSigningKey",
            fanout::unknown_key
        ),
        scenario!(
            "SEC-FED-BAD-SIGNATURE",
            "fanout: a request from A naming A's current key, signed by another key or not at all -> InvalidDsSignature",
            fanout::bad_signature
        ),
        scenario!(
            "SEC-FED-CHECK-ORDER",
            "fanout: a request failing several checks is refused with the first of spec §11.2's order",
            fanout::check_order
        ),
        scenario!(
            "SEC-FED-UNVOUCHED",
            "add_users: a key package of a B client without voucher, posted to A -> UnvouchedClient",
            vouchers::unvouched
        ),
        scenario!(
            "SEC-FED-FOREIGN-VOUCHER",
            "add_users: a B key package carrying a real voucher of another B client or key -> UnvouchedClient",
            vouchers::foreign_voucher
        ),
        scenario!(
            "SEC-FED-FORGED-VOUCHER",
            "add_users: a B key package with an edited voucher (signature, key, issuer, expiry...) -> UnvouchedClient",
            vouchers::forged_voucher
        ),
        scenario!(
            "SEC-FED-VOUCHED-REQUEST",
            "external_commit_info as vouched_client with a foreign key or voucher, or stale -> its typed error",
            vouchers::vouched_request
        ),
    ]
}

/// An hour, far outside any freshness window.
const HOUR: u64 = 3600;

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
}

fn short(bytes: &[u8]) -> Result<ShortBytes, Failure> {
    ShortBytes::new(bytes.to_vec()).ctx("short bytes")
}

fn random(len: usize) -> Result<Vec<u8>, Failure> {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).ctx("random bytes")?;
    Ok(bytes)
}
