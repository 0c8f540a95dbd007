//! Framing and transport: bytes that are no request, a valid request cut
//! short or with bytes appended (MalformedMessage), a body over the size
//! limit (HTTP 413), an unknown protocol version (UnsupportedVersion), and
//! plain HTTP on the TLS port (no HTTP answer).

use std::time::Duration;

use ds_client_sdk::DsErrorCode;
use ds_core::wire::{DsAuthData, DsRequest, DsRequestBody, ProtocolVersion, QsResponseBody};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{ds_accepted, ds_refused, encode_ds, encode_qs, home, qs_post, qs_refused, unchanged};
use crate::ctx::Ctx;
use crate::events::{expect_message, quiet};
use crate::peek::{signed_sync, unacked};
use crate::raw::{self, Answer, DS_PATH, QUEUE_PATH};
use crate::scenario::{Context as _, Failure, Outcome, ensure};
use crate::scenarios::cs;

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

pub(super) async fn garbage(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (_alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn truncated(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn trailing(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn oversize(ctx: Ctx) -> Outcome {
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

pub(super) async fn version(ctx: Ctx) -> Outcome {
    let raw = ctx.raw()?;
    let (alice, bob, group) = cs::pair(&ctx).await?;
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

pub(super) async fn plain_http(ctx: Ctx) -> Outcome {
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
