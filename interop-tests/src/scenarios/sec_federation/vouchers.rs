//! Clients of B without their home DS's valid voucher: AddUsers commits
//! posted to A adding a B key package without voucher, with another
//! client's or key's voucher, or with an edited one (spec §11.4), and
//! `vouched_client` requests to A with such vouchers (spec §7.5).

use ds_client_sdk::{ClientId, Domain, DsErrorCode};
use ds_core::wire::{
    ClientVoucher, DsAuthData, DsRequest, DsRequestBody, DsResponse, DsResponseBody,
    ExternalCommitInfoRequest, KeyPackagesRequest, List, ProtocolVersion, VOUCHER_EXTENSION_TYPE,
};
use openmls::prelude::{
    BasicCredential, Capabilities, CredentialWithKey, Extension, ExtensionType, Extensions,
    KeyPackage, UnknownExtension,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::Serialize as _;

use super::{Fed, HOUR, fed, random, short};
use crate::ctx::Ctx;
use crate::events::{expect_message, quiet};
use crate::forge;
use crate::raw::{DS_PATH, ds_refusal};
use crate::scenario::{Context as _, Failure, Outcome, ensure};

impl Fed {
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
        let [served] = served.as_slice() else {
            return Err(Failure(format!(
                "{} key packages served for one client",
                served.len()
            )));
        };
        let key_package = forge::served_key_package(served)?;
        forge::voucher_of(&key_package)
            .ok_or_else(|| Failure(format!("{client}'s key package carries no voucher")))
    }
}

/// Mallory of B, a client B never registered.
fn mallory(ctx: &Ctx) -> Result<ClientId, Failure> {
    ctx.client_id(&ctx.user(&ctx.b(), "mallory"), "x")
}

pub(super) async fn unvouched(ctx: Ctx) -> Outcome {
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

pub(super) async fn foreign_voucher(ctx: Ctx) -> Outcome {
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

pub(super) async fn forged_voucher(ctx: Ctx) -> Outcome {
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

pub(super) async fn vouched_request(ctx: Ctx) -> Outcome {
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
