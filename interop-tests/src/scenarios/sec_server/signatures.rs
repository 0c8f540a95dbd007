//! Group operations whose ClientSignature or content is wrong: forged or
//! missing signatures, a member signing as another's leaf, a non-member's
//! message, a commit altered after signing, a message or commit of a past
//! epoch, and a send_message posted twice (logged once).

use ds_client_sdk::{Client, DsErrorCode, GroupId};
use ds_core::wire::{
    ClientSignature, DsAuthData, DsRequest, DsRequestBody, DsResponse, DsResponseBody, ShortBytes,
};
use openmls_traits::signatures::Signer as _;

use super::spoil::{Spoiler, altered_update, spoil_path, spoil_signature};
use super::{ds_accepted, ds_refused, encode_ds, home, stranger, unchanged};
use crate::ctx::Ctx;
use crate::events::{expect_message, quiet};
use crate::peek::unacked;
use crate::raw::DS_PATH;
use crate::scenario::{Context as _, Failure, Outcome, ensure};
use crate::scenarios::cs;

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

pub(super) async fn forged_signature(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn wrong_leaf(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn non_member(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn altered_commit(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn stale_epoch(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn replay_ds(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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
