//! Hostile fan-outs that only a trusted peer can send: signed with the key
//! of a third domain C that B federates with (`--peer-key`), so they pass
//! B's signature check and meet the checks after it (spec §11.2, 7-10) and
//! the guest DS's deduplication. Bob of B is the recipient; his client never
//! reads its queue, so a raw sync shows exactly what B stored for him.

use ds_client_sdk::{Client, ClientId, Domain, DsErrorCode, GroupId};
use ds_core::wire::{
    DsFanoutEntry, DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody, FanoutEntryKind, List,
};
use ds_federation::PeerClient;

use crate::ctx::Ctx;
use crate::forge::{self, now};
use crate::peek::unacked;
use crate::raw::{self, Answer, FANOUT_PATH};
use crate::scenario::{Context as _, Failure, Need, Outcome, Scenario, ensure, scenario};
use crate::target::PeerSigner;

pub fn all() -> Vec<Scenario> {
    vec![
        scenario!(
            "SEC-PEER-NOT-OWNER",
            "fanout signed by peer C for a group of A (alone or with C's own entries) -> NotOwningDomain",
            not_owner,
            [Need::PeerKey]
        ),
        scenario!(
            "SEC-PEER-FOREIGN-RECIPIENT",
            "fanout signed by peer C naming a client of A as a recipient at B -> NotLocalRecipient",
            foreign_recipient,
            [Need::PeerKey]
        ),
        scenario!(
            "SEC-PEER-NO-RECIPIENTS",
            "fanout signed by peer C whose first entry or Welcome lists no recipient -> MalformedMessage",
            no_recipients,
            [Need::PeerKey]
        ),
        scenario!(
            "SEC-PEER-REPLAY",
            "fanout signed by peer C posted again, as is and re-signed: ok each time, stored once",
            replay,
            [Need::PeerKey]
        ),
        scenario!(
            "SEC-PEER-CONFLICT",
            "fanout signed by peer C re-using a stored sequence number with other bytes -> ConflictingEntry",
            conflict,
            [Need::PeerKey]
        ),
        scenario!(
            "SEC-PEER-UNKNOWN-RECIPIENT",
            "fanout signed by peer C naming a client B does not know: it is left out, the others get it",
            unknown_recipient,
            [Need::PeerKey]
        ),
    ]
}

/// What every scenario here works with.
struct Stage {
    raw: PeerClient,
    peer: PeerSigner,
    b: Domain,
    /// A client of B that never reads its queue.
    bob: Client,
    /// A group of C's, unique to the scenario.
    group: GroupId,
}

async fn stage(ctx: &Ctx) -> Result<Stage, Failure> {
    let peer = ctx.peer()?.clone();
    let b = ctx.b();
    let bob = ctx
        .client_tuned(&b, "bob", "phone", |t| t.live_push = false)
        .await?;
    // The run's and scenario's prefix, as in the users' names.
    let user = ctx.user(&b, "talk");
    let local = user.local().to_owned();
    let group = GroupId::from_parts(&local, &peer.domain).ctx("a group id of C")?;
    Ok(Stage {
        raw: ctx.raw()?,
        peer,
        b,
        bob,
        group,
    })
}

impl Stage {
    /// A request of `entries` from C to B, signed by C now.
    fn request(&self, entries: Vec<DsFanoutEntry>) -> Result<DsFanoutRequest, Failure> {
        forge::fanout(&self.peer.domain, &self.b, now(), entries, &self.peer.key)
    }

    /// An entry of C's group for `recipients`.
    fn entry(
        &self,
        sequence: u64,
        recipients: &[ClientId],
        message: &[u8],
    ) -> Result<DsFanoutEntry, Failure> {
        forge::entry(&self.group, sequence, recipients, message)
    }

    /// Posts `request`; B must accept it.
    async fn accepted(&self, request: &DsFanoutRequest, what: &str) -> Outcome {
        let body = request.encode().ctx("encoding the fan-out")?;
        match raw::post(&self.raw, &self.b, FANOUT_PATH, body).await? {
            Answer::Body(bytes) => match DsFanoutResponse::decode(&bytes)
                .ctx("decoding the DSFanoutResponse")?
                .body
            {
                DsFanoutResponseBody::Ok => Ok(()),
                DsFanoutResponseBody::Error(e) => Err(Failure(format!("{what}: refused: {e}"))),
            },
            Answer::Status(status) => Err(Failure(format!("{what}: HTTP {status}"))),
        }
    }

    /// Posts `request`; B must refuse it with `want`.
    async fn refused(&self, request: &DsFanoutRequest, want: DsErrorCode, what: &str) -> Outcome {
        let body = request.encode().ctx("encoding the fan-out")?;
        let got = raw::fanout_refusal(&self.raw, &self.b, body)
            .await
            .map_err(|e| Failure(format!("{what}: {e}")))?;
        ensure!(got == want, "{what}: expected {want:?}, got {got:?}");
        Ok(())
    }

    /// What B stored for bob in `group`.
    async fn stored(&self, group: &GroupId) -> Result<Vec<(u64, Vec<u8>)>, Failure> {
        unacked(&self.bob, group).await
    }
}

async fn not_owner(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let bob = stage.bob.id().clone();
    let local = stage.group.as_str().split('@').next().unwrap_or("talk");
    let of_a = GroupId::from_parts(local, &ctx.a()).ctx("a group id of A")?;
    let alien = forge::entry(&of_a, 1, std::slice::from_ref(&bob), b"not C's to send")?;
    stage
        .refused(
            &stage.request(vec![alien.clone()])?,
            DsErrorCode::NotOwningDomain,
            "A's group alone",
        )
        .await?;
    let own = stage.entry(1, std::slice::from_ref(&bob), b"C's own")?;
    stage
        .refused(
            &stage.request(vec![own, alien])?,
            DsErrorCode::NotOwningDomain,
            "C's entry, then A's",
        )
        .await?;
    ensure!(
        stage.stored(&of_a).await?.is_empty(),
        "an entry of A's group was stored"
    );
    ensure!(
        stage.stored(&stage.group).await?.is_empty(),
        "C's entry of the refused batch was stored"
    );
    Ok(())
}

async fn foreign_recipient(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let alice = ctx.client_id(&ctx.user(&ctx.a(), "alice"), "laptop")?;
    let bob = stage.bob.id().clone();
    let only_a = stage.entry(1, std::slice::from_ref(&alice), b"for alice")?;
    stage
        .refused(
            &stage.request(vec![only_a])?,
            DsErrorCode::NotLocalRecipient,
            "a recipient of A",
        )
        .await?;
    let mixed = stage.entry(1, &[bob, alice], b"for bob and alice")?;
    stage
        .refused(
            &stage.request(vec![mixed])?,
            DsErrorCode::NotLocalRecipient,
            "bob and a recipient of A",
        )
        .await?;
    ensure!(
        stage.stored(&stage.group).await?.is_empty(),
        "an entry of a refused batch was stored for bob"
    );
    Ok(())
}

async fn no_recipients(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let bob = stage.bob.id().clone();
    let bare = stage.entry(1, &[], b"for whom?")?;
    stage
        .refused(
            &stage.request(vec![bare])?,
            DsErrorCode::MalformedMessage,
            "a first entry without recipients",
        )
        .await?;
    let mut welcome = stage.entry(0, std::slice::from_ref(&bob), b"a Welcome")?;
    welcome.kind = FanoutEntryKind::Welcome;
    welcome.recipients = List::new(Vec::new()).ctx("no recipients")?;
    stage
        .refused(
            &stage.request(vec![welcome])?,
            DsErrorCode::MalformedMessage,
            "a Welcome without recipients",
        )
        .await?;
    ensure!(
        stage.stored(&stage.group).await?.is_empty(),
        "something was stored for bob"
    );
    Ok(())
}

async fn replay(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let bob = stage.bob.id().clone();
    let entries = vec![
        stage.entry(1, std::slice::from_ref(&bob), b"one")?,
        stage.entry(2, &[], b"two")?,
    ];
    let request = stage.request(entries.clone())?;
    stage.accepted(&request, "the batch").await?;
    stage.accepted(&request, "the same bytes again").await?;
    stage
        .accepted(&stage.request(entries)?, "the batch signed again")
        .await?;
    let stored = stage.stored(&stage.group).await?;
    let want = vec![(1, b"one".to_vec()), (2, b"two".to_vec())];
    ensure!(
        stored == want,
        "bob's log of C's group is {stored:?}, expected {want:?}"
    );
    Ok(())
}

async fn conflict(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let bob = stage.bob.id().clone();
    let first = stage.entry(1, std::slice::from_ref(&bob), b"original")?;
    stage
        .accepted(&stage.request(vec![first])?, "the original")
        .await?;
    let other = stage.entry(1, std::slice::from_ref(&bob), b"rewritten")?;
    stage
        .refused(
            &stage.request(vec![other.clone()])?,
            DsErrorCode::ConflictingEntry,
            "sequence 1 with other bytes",
        )
        .await?;
    let next = stage.entry(2, std::slice::from_ref(&bob), b"next")?;
    stage
        .refused(
            &stage.request(vec![other, next])?,
            DsErrorCode::ConflictingEntry,
            "the conflict and a new entry",
        )
        .await?;
    let stored = stage.stored(&stage.group).await?;
    let want = vec![(1, b"original".to_vec())];
    ensure!(
        stored == want,
        "bob's log of C's group is {stored:?}, expected {want:?}"
    );
    Ok(())
}

async fn unknown_recipient(ctx: Ctx) -> Outcome {
    let stage = stage(&ctx).await?;
    let bob = stage.bob.id().clone();
    let nobody = ctx.client_id(&ctx.user(&stage.b, "nobody"), "ghost")?;
    let entry = stage.entry(1, &[nobody, bob], b"for bob")?;
    stage
        .accepted(
            &stage.request(vec![entry])?,
            "bob and a client B does not know",
        )
        .await?;
    let stored = stage.stored(&stage.group).await?;
    let want = vec![(1, b"for bob".to_vec())];
    ensure!(
        stored == want,
        "bob's log of C's group is {stored:?}, expected {want:?}"
    );
    Ok(())
}
