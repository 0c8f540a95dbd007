//! A rotates its signing key while B holds A's old key in its cache: A
//! publishes the new key first and keeps the old one for the grace period;
//! B, seeing an unknown key id, fetches A's keys again and delivery goes
//! on; a fan-out signed with the old key within the grace is still taken.
//! One rotation through the admin listener, one through `mimi-ds admin`.

use std::process::Command;

use ds_core::wire::{DsFanoutResponseBody, SIGNATURE_SCHEME_ED25519};
use http::{Method, StatusCode};

use crate::forge::{self, entry, mls_messages, request, signed};
use crate::member::Got;
use crate::qs::now;
use crate::world::{A, B, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const BOB: &str = "bob@ds-b.test/phone";
/// A client of B that gets the entry signed with the old key.
const ZED: &str = "zed@ds-b.test/phone";

/// A's published key ids, current first; checks the not_after rules.
async fn published(w: &World) -> Vec<Vec<u8>> {
    let keys = w.ds_keys(A).await;
    let keys = keys.keys.as_slice();
    assert_eq!(keys[0].not_after, 0, "the current key comes first");
    for key in &keys[1..] {
        assert!(key.not_after > now(), "a retired key within its grace");
    }
    assert!(
        keys.iter()
            .all(|k| k.signature_scheme == SIGNATURE_SCHEME_ED25519)
    );
    keys.iter().map(|k| k.key_id.as_slice().to_vec()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_goes_on_across_key_rotations() {
    let mut w = World::start().await;
    w.enrol(&[ALICE, BOB, ZED]).await;
    w.create_group(ALICE).await;
    w.add(ALICE, &[BOB]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;
    // B has verified A's fan-outs, so it holds A's current key.
    w.say(ALICE, b"under the first key", &[BOB]).await;
    let first = published(&w).await;
    assert_eq!(first.len(), 1, "one key before any rotation");
    let old = forge::keyring(&w.a).current();
    assert_eq!(old.key_id(), first[0].as_slice());

    // Rotation through the admin listener.
    let answer = w.a.admin(Method::POST, "/admin/v1/keys/rotate").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let second = published(&w).await;
    assert_eq!(second.len(), 2, "the new key and the old one in its grace");
    assert_eq!(second[1], first[0], "the old key is still published");
    let report: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        report["key_id"],
        hex(&second[0]),
        "the rotation names the new key"
    );

    // A signs with the new key; B refetches and delivers.
    w.say(ALICE, b"under the second key", &[BOB]).await;
    w.say(BOB, b"and back", &[ALICE]).await;

    // A fan-out signed with the old key within the grace is accepted.
    let text = mls_messages(ALICE, &[b"old key"]).remove(0);
    let late = signed(
        &old,
        request(A, B, vec![entry("late@ds-a.test", 1, &[ZED], &text)]),
    );
    assert_eq!(w.b.endpoint().fanout(&late).await, DsFanoutResponseBody::Ok);
    let home = w.home(ZED);
    let queue = w.member(ZED).queue(&home).await;
    assert_eq!(queue.group("late@ds-a.test"), vec![(1, text)]);

    // Rotation through the command line.
    let status = Command::new(env!("CARGO_BIN_EXE_mimi-ds"))
        .args([
            "admin",
            "--admin",
            &format!("http://{}", w.a.admin),
            "rotate-key",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "mimi-ds admin rotate-key: {status:?}"
    );
    let third = published(&w).await;
    assert_eq!(third.len(), 3, "two retired keys in their grace");
    assert_eq!(&third[1..], &second[..], "older keys follow, newest first");
    w.say(ALICE, b"under the third key", &[BOB]).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
