//! Hostile requests to the queue endpoint: replayed, stale, of a client the
//! DS does not know, in another client's name, and key packages published
//! in another client's name or under another key.

use ds_client_sdk::{Client, ClientId, DsErrorCode};
use ds_core::wire::{
    AckRequest, DsAuthData, DsKeyPackage, DsRequest, DsRequestBody, DsResponse, DsResponseBody,
    GroupPosition, KeyPackageCountRequest, KeyPackageKind, KeyPackageUpload, KeyPackagesRequest,
    List, MlsBytes, ProtocolVersion, PublishKeyPackagesRequest, QsRequest, QsRequestBody,
    QsResponseBody, QueuePositions, RegisterClientRequest, SIGNATURE_SCHEME_ED25519, ShortBytes,
};
use openmls::prelude::MlsMessageOut;
use openmls_basic_credential::SignatureKeyPair;
use tls_codec::Serialize as _;

use super::{encode_ds, encode_qs, qs_post, qs_refused, stranger};
use crate::ctx::Ctx;
use crate::events::expect_message;
use crate::forge::{self, now};
use crate::peek::{signed_sync, sync_body};
use crate::raw::DS_PATH;
use crate::scenario::{Context as _, Failure, Outcome, ensure};
use crate::scenarios::cs;

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

pub(super) async fn replay_qs(ctx: Ctx) -> Outcome {
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

pub(super) async fn stale_qs(ctx: Ctx) -> Outcome {
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

pub(super) async fn unknown_client(ctx: Ctx) -> Outcome {
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

pub(super) async fn others_queue(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let a = ctx.a();
    let (alice, bob, group) = cs::pair(&ctx).await?;
    let thief = ctx.client(&a, "mallory", "laptop").await?;
    let bob_id = bob.id().clone();
    // Bob is offline while a message waits for him.
    bob.close().await;
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

pub(super) async fn publish_as_other(ctx: Ctx) -> Outcome {
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
