//! Connection key packages (spec §8.4, §8.14): published by a client for
//! first contact, handed out per user by its home DS, and admitted only into
//! connection groups.

use ds_client_sdk::{Client, DsErrorCode};
use ds_core::wire::ConnectionKeyPackagesRequest;
use ds_core::wire::{
    DsAuthData, DsRequest, DsRequestBody, DsResponseBody, KeyPackageKind, KeyPackageUpload, List,
    MlsBytes, ProtocolVersion, PublishKeyPackagesRequest, QsRequestBody, QsResponseBody,
};

use crate::ctx::Ctx;
use crate::forge::{self, now};
use crate::scenario::{Context as _, Failure, Outcome, Scenario, ensure, scenario};

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "CS-CONNECTION-KEY-PACKAGES",
            "connection_key_packages: the connection key package a client published is handed out for its user",
            handed_out
        ),
        scenario!(
            "SEC-CONNECTION-IN-REGULAR",
            "add_users of a connection key package into a regular group -> ConnectionKeyPackageNotAllowed",
            not_in_regular_groups
        ),
    ]
}

/// `client` publishes one new connection key package at its home DS; its
/// MLSMessage bytes.
async fn publish_connection_key_package(client: &Client) -> Result<Vec<u8>, Failure> {
    let key_package = client
        .craft_key_package(true)
        .await
        .ctx("a connection key package")?;
    let body = QsRequestBody::PublishKeyPackages(PublishKeyPackagesRequest {
        key_packages: List::new(vec![KeyPackageUpload {
            kind: KeyPackageKind::Connection,
            key_package: MlsBytes::new(key_package.clone()).ctx("key package bytes")?,
        }])
        .ctx("the upload")?,
    });
    let request = client
        .sign_queue_request(body, now())
        .await
        .ctx("signing the publication")?;
    match client
        .post_queue(&request)
        .await
        .ctx("publish_key_packages")?
    {
        // The answer is the number stored (spec §13).
        QsResponseBody::KeyPackageCount(1) => Ok(key_package),
        other => Err(Failure(format!(
            "publish_key_packages of one key package answered {other:?}"
        ))),
    }
}

async fn handed_out(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    for domain in [ctx.a(), ctx.b()] {
        let bob = ctx.client(&domain, "bob", "phone").await?;
        let published = publish_connection_key_package(&bob).await?;
        let request = DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::ConnectionKeyPackages(ConnectionKeyPackagesRequest {
                user_id: ctx.user(&domain, "bob"),
            }),
            auth: DsAuthData::Anonymous,
        };
        let answer = raw
            .post(
                &domain,
                crate::raw::DS_PATH,
                request.encode().ctx("encoding")?,
            )
            .await
            .ctx("connection_key_packages")?;
        let served = match ds_core::wire::DsResponse::decode(&answer)
            .ctx("decoding the DSResponse")?
            .body
        {
            DsResponseBody::ConnectionKeyPackages(served) => served.key_packages.into_vec(),
            other => return Err(Failure(format!("{domain} answered {other:?}"))),
        };
        let [served] = &served[..] else {
            return Err(Failure(format!(
                "{domain} served {} connection key packages for a user of one client",
                served.len()
            )));
        };
        let ds_core::wire::DsKeyPackage::MlsKeyPackage(bytes) = served;
        ensure!(
            bytes.as_slice() == published.as_slice(),
            "{domain} served another key package than the published connection key package"
        );
        forge::served_key_package(served)?;
    }
    Ok(())
}

async fn not_in_regular_groups(ctx: Ctx) -> Outcome {
    let a = ctx.a();
    let alice = ctx.client(&a, "alice", "laptop").await?;
    let bob = ctx.client(&a, "bob", "phone").await?;
    let group = alice.create_group("regular").await.ctx("create_group")?;
    let published = publish_connection_key_package(&bob).await?;
    let key_package = forge::served_key_package(&ds_core::wire::DsKeyPackage::MlsKeyPackage(
        MlsBytes::new(published).ctx("key package bytes")?,
    ))?;
    let request = alice
        .craft_add(&group, vec![key_package])
        .await
        .ctx("craft_add")?;
    match alice.post_ds(&a, &request).await {
        Err(e) if e.code() == Some(DsErrorCode::ConnectionKeyPackageNotAllowed) => {}
        Err(e) => {
            return Err(Failure(format!(
                "expected ConnectionKeyPackageNotAllowed, got {e}"
            )));
        }
        Ok(other) => return Err(Failure(format!("accepted: {other:?}"))),
    }
    // Nothing changed: alice is alone, and her next commit is accepted.
    ensure!(
        alice.members(&group).await.ctx("members")? == vec![alice.id().clone()],
        "the refused add changed the group"
    );
    alice
        .update(&group)
        .await
        .ctx("alice's update after the refusal")
}
