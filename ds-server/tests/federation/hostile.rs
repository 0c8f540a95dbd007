//! What a hostile or broken peer sends is refused with its code and stores
//! nothing: fan-outs to B that are badly signed, signed by an unknown key,
//! misaddressed, for groups the sender does not own, for clients that are
//! not B's, replayed (harmless within the window, stale outside it),
//! conflicting, over plain HTTP, or from a DS whose certificate B does not
//! trust; and, on A, key packages of B's users without B's voucher.

use ds_core::wire::{DsErrorCode, DsFanoutRequest, DsFanoutResponseBody, DsRequestBody};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openmls::prelude::KeyPackage;
use tokio::net::TcpStream;

use crate::common::add_request;
use crate::forge::{self, entry, mls_messages, request, signed};
use crate::member::{Got, Member, Queue};
use crate::net::FANOUT_PATH;
use crate::node::{Node, NodeConfig};
use crate::packages::open;
use crate::pki::TestCa;
use crate::proxy::Proxy;
use crate::qs::now;
use crate::world::{A, B, C, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const BOB: &str = "bob@ds-b.test/phone";
/// A client of B that only ever gets forged entries.
const ZED: &str = "zed@ds-b.test/phone";
/// A client of B whose key packages are forged.
const YAN: &str = "yan@ds-b.test/laptop";

/// The whole queues of B's clients.
async fn b_queues(w: &mut World) -> Vec<Queue> {
    let home = w.home(BOB);
    let mut queues = Vec::new();
    for id in [BOB, ZED, YAN] {
        queues.push(w.member(id).queue(&home).await);
    }
    queues
}

/// Posts `request` to B, which must refuse it with `code` and store nothing.
async fn refused(w: &mut World, what: &str, request: &DsFanoutRequest, code: DsErrorCode) {
    let before = b_queues(w).await;
    match w.b.endpoint().fanout(request).await {
        DsFanoutResponseBody::Error(e) => assert_eq!(e.code, code, "{what}: {e}"),
        DsFanoutResponseBody::Ok => panic!("{what}: accepted"),
    }
    assert_eq!(b_queues(w).await, before, "{what}: B stored something");
}

/// Starts ds-c.test with a certificate of a CA nobody else trusts.
fn untrusted_c(w: &World) -> Node {
    let dir = w.dir.path();
    let other_ca = TestCa::new(dir, "other-ca");
    Node::start(NodeConfig {
        domain: C.to_owned(),
        data_dir: dir.join(C),
        cert: other_ca.issue(C),
        trust_roots: vec![w.ca.cert.clone()],
        peers: vec![],
        client_ca: other_ca.cert.clone(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_fanouts_and_unvouched_key_packages_are_refused() {
    let to_c = Proxy::start().await;
    let mut w = World::start_with(&[(C, to_c.addr)]).await;
    let c = untrusted_c(&w);
    to_c.point_to(Some(c.public));
    w.enrol(&[ALICE, BOB, ZED, YAN]).await;
    let gid = w.create_group(ALICE).await;
    w.add(ALICE, &[BOB]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.say(ALICE, b"the real thing", &[BOB]).await;

    let a_keys = forge::keyring(&w.a);
    let a_key = a_keys.current();
    let texts = mls_messages(ALICE, &[b"forged one", b"forged two", b"other"]);
    let forged = "forged@ds-a.test";
    let good = |entries| signed(&a_key, request(A, B, entries));

    // A badly signed batch.
    let mut bad = good(vec![entry(forged, 1, &[ZED], &texts[0])]);
    let mut signature = bad.signature.as_slice().to_vec();
    signature[0] ^= 1;
    bad.signature = ds_core::wire::ShortBytes::new(signature).unwrap();
    refused(
        &mut w,
        "bad signature",
        &bad,
        DsErrorCode::InvalidDsSignature,
    )
    .await;

    // Signed by a key A never published (B refetches A's keys, in vain).
    let stranger = forge::stranger_keyring(w.dir.path()).current();
    let unknown = signed(
        &stranger,
        request(A, B, vec![entry(forged, 1, &[ZED], &texts[0])]),
    );
    refused(
        &mut w,
        "unknown key",
        &unknown,
        DsErrorCode::UnknownSigningKey,
    )
    .await;

    // Addressed to another domain; claiming to be B itself.
    let elsewhere = good(vec![]);
    let elsewhere = signed(
        &a_key,
        DsFanoutRequest {
            recipient_domain: ds_core::wire::Domain::new(C).unwrap(),
            ..elsewhere
        },
    );
    refused(
        &mut w,
        "another destination",
        &elsewhere,
        DsErrorCode::WrongDestination,
    )
    .await;
    let as_b = signed(
        &a_key,
        request(B, B, vec![entry("x@ds-b.test", 1, &[ZED], &texts[0])]),
    );
    refused(&mut w, "sender is B", &as_b, DsErrorCode::NotOwningDomain).await;

    // A group of a third domain, next to one of A's.
    let third = good(vec![
        entry(forged, 1, &[ZED], &texts[0]),
        entry("theirs@ds-c.test", 1, &[ZED], &texts[1]),
    ]);
    refused(
        &mut w,
        "a group A does not own",
        &third,
        DsErrorCode::NotOwningDomain,
    )
    .await;

    // A recipient that is not B's client: refused whole.
    let batch = good(vec![entry(forged, 1, &[ZED, ALICE], &texts[0])]);
    refused(
        &mut w,
        "a client of A",
        &batch,
        DsErrorCode::NotLocalRecipient,
    )
    .await;
    // A client of B's domain that B does not know (deleted, or never
    // registered) has no queue: left out, so an entry naming only such
    // clients is accepted and stores nothing (spec §11.2 check 8).
    let before = b_queues(&mut w).await;
    let unknown = good(vec![entry(
        forged,
        1,
        &["nobody@ds-b.test/phone"],
        &texts[0],
    )]);
    assert_eq!(
        w.b.endpoint().fanout(&unknown).await,
        DsFanoutResponseBody::Ok,
        "an unregistered client of B"
    );
    assert_eq!(
        b_queues(&mut w).await,
        before,
        "stored something for an unregistered client"
    );

    // The first entry of a group must name its recipients.
    let nameless = good(vec![entry(forged, 1, &[], &texts[0])]);
    refused(
        &mut w,
        "no recipients",
        &nameless,
        DsErrorCode::MalformedMessage,
    )
    .await;

    // A stale batch, and one from the future.
    for (what, timestamp) in [("stale", now() - 3600), ("future", now() + 3600)] {
        let mut batch = request(A, B, vec![entry(forged, 1, &[ZED], &texts[0])]);
        batch.timestamp = timestamp;
        refused(
            &mut w,
            what,
            &signed(&a_key, batch),
            DsErrorCode::StaleRequest,
        )
        .await;
    }

    // A well-formed batch is stored; posted again within the window it is
    // answered ok and stored once.
    let batch = good(vec![
        entry(forged, 1, &[ZED], &texts[0]),
        entry(forged, 2, &[], &texts[1]),
    ]);
    let bytes = batch.encode().unwrap();
    for attempt in ["first", "replayed"] {
        let answer = w.b.endpoint().fanout_raw(bytes.clone()).await;
        assert_eq!(answer, DsFanoutResponseBody::Ok, "{attempt} post");
        let home = w.home(ZED);
        let queue = w.member(ZED).queue(&home).await;
        let stored = vec![(1, texts[0].clone()), (2, texts[1].clone())];
        assert_eq!(
            queue.group(forged),
            stored,
            "zed's queue after the {attempt} post"
        );
        assert_eq!(
            queue.entries.len(),
            2,
            "zed's queue after the {attempt} post"
        );
    }
    // The same numbers with other bytes conflict; the whole batch is refused.
    let conflicting = good(vec![
        entry(forged, 2, &[ZED], &texts[2]),
        entry(forged, 3, &[], &texts[0]),
    ]);
    refused(
        &mut w,
        "conflicting",
        &conflicting,
        DsErrorCode::ConflictingEntry,
    )
    .await;

    // B serves TLS only: a plain HTTP request gets no answer.
    let before = b_queues(&mut w).await;
    let plain = plain_http_post(w.b.public, bytes).await;
    assert!(plain.is_err(), "B answered plain HTTP: {plain:?}");
    assert_eq!(
        b_queues(&mut w).await,
        before,
        "plain HTTP stored something"
    );

    // A fan-out from ds-c.test: B cannot fetch its keys (its certificate is
    // of a CA B does not trust), so it refuses with PeerUnavailable.
    let c_key = forge::keyring(&c).current();
    let from_c = signed(
        &c_key,
        request(C, B, vec![entry("g@ds-c.test", 1, &[ZED], &texts[0])]),
    );
    refused(
        &mut w,
        "untrusted peer",
        &from_c,
        DsErrorCode::PeerUnavailable,
    )
    .await;

    // A refuses key packages of B's users that B did not vouch for: none,
    // a voucher of another client, a voucher of another key.
    let bob_voucher = w.member(BOB).voucher.clone().unwrap();
    let yan_voucher = w.member(YAN).voucher.clone().unwrap();
    let impostor = Member::new(YAN);
    let forged_packages = [
        ("no voucher", w.member(YAN).key_package_with(None)),
        (
            "bob's voucher",
            w.member(YAN).key_package_with(Some(&bob_voucher)),
        ),
        ("another key", impostor.key_package_with(Some(&yan_voucher))),
    ];
    for (what, key_package) in forged_packages {
        let key_package: KeyPackage = open(&key_package);
        let alice = w.member(ALICE);
        let (update, welcome) = alice
            .client
            .commit_with(|cb| cb.propose_adds([key_package]));
        let commit = update.commit.as_slice().to_vec();
        let body = DsRequestBody::AddUsers(add_request(update, vec![welcome.unwrap()]));
        let request = alice.signed(body, &commit);
        let code = w.refused(ALICE, &request).await;
        assert_eq!(code, DsErrorCode::UnvouchedClient, "{what}");
    }
    // Nothing reached the log; yan's genuine key package is accepted.
    w.all_get(&[ALICE, BOB], &[]).await;
    w.add(ALICE, &[YAN]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    w.all_get(&[BOB], &[Got::Commit]).await;
    w.say(YAN, b"vouched for", &[ALICE, BOB]).await;
    assert_eq!(
        w.member(YAN).client.group().group_id().as_slice(),
        gid.as_bytes()
    );
    drop(c);
}

/// `POST /mimi/v1/fanout` over plain TCP: the answer, if any.
async fn plain_http_post(addr: std::net::SocketAddr, body: Vec<u8>) -> Result<u16, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let request = http::Request::post(FANOUT_PATH)
        .header(http::header::HOST, B)
        .header(http::header::CONTENT_TYPE, ds_server::http::MEDIA_TYPE)
        .body(Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(15),
        sender.send_request(request),
    )
    .await
    .map_err(|_| "no answer in time".to_owned())?
    .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}
