//! A listener that loses its connection while messages keep coming
//! reconnects with the positions it had and misses nothing: the entries
//! stored while it was away come first on the new connection, then the live
//! ones, with no gap and no repeat.

use ds_core::wire::QueuePositions;
use tokio::sync::oneshot;

use crate::common;
use crate::live::wake_only;
use crate::support::{TestDb, on_both_backends};
use crate::world::{Conversation, start};
use crate::ws::{Opening, Received, next_page, read_until, subscribe};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";

/// Messages sent while bob listens on his first connection, while he is
/// away, and after he is back.
const BEFORE_DROP: usize = 12;
const WHILE_AWAY: usize = 10;
const AFTER_RETURN: usize = 6;
/// Entries bob reads before his connection drops.
const READ_BEFORE_DROP: u64 = 5;

async fn a_reconnecting_listener_misses_nothing(db: TestDb) {
    let (ds, server) = start(&db, wake_only()).await;
    let mut conv = Conversation::start(&server, &db, &ds, &[ALICE, BOB]).await;
    let gid = conv.group_id.as_str().to_owned();
    let added_at = conv.added_at;
    let total = BEFORE_DROP + WHILE_AWAY + AFTER_RETURN;
    let last = added_at + total as u64;
    // Bob listens while the conversation (alice) keeps sending.
    let mut bob = conv.members.remove(1);
    let bob_signer = &bob.signer;
    let after_welcome = crate::qs::positions(1, &[(gid.as_str(), added_at)]);

    let (dropped_tx, dropped) = oneshot::channel::<()>();
    let (away_tx, away_done) = oneshot::channel::<()>();
    let (back_tx, back) = oneshot::channel::<()>();

    let sender = async {
        let mut sent = Vec::new();
        let mut send = async |i: usize, sent: &mut Vec<Vec<u8>>| {
            let text = format!("message {i}").into_bytes();
            conv.send(&server, 0, &text).await;
            sent.push(text);
        };
        for i in 0..BEFORE_DROP {
            send(i, &mut sent).await;
        }
        dropped.await.unwrap();
        for i in BEFORE_DROP..BEFORE_DROP + WHILE_AWAY {
            send(i, &mut sent).await;
        }
        away_tx.send(()).unwrap();
        back.await.unwrap();
        for i in BEFORE_DROP + WHILE_AWAY..total {
            send(i, &mut sent).await;
        }
        sent
    };

    let listener = async {
        // First connection (HTTP/1.1): read a few entries, then vanish
        // without a closing handshake.
        let mut first = subscribe(
            &server,
            Opening::Upgrade,
            BOB,
            bob_signer,
            &after_welcome,
            0,
        )
        .await;
        let mut before = Received::default();
        read_until(&mut first, &mut before, &gid, added_at + READ_BEFORE_DROP).await;
        drop(first);
        dropped_tx.send(()).unwrap();

        // Back after the sender stored more, over HTTP/2 this time, from
        // the positions of the last entry it had.
        away_done.await.unwrap();
        let resume: QueuePositions = before.positions();
        let mut second = subscribe(
            &server,
            Opening::ExtendedConnect,
            BOB,
            bob_signer,
            &resume,
            0,
        )
        .await;
        let mut after = Received::default();
        let catch_up = next_page(&mut second).await;
        after.take(&catch_up);
        back_tx.send(()).unwrap();
        read_until(&mut second, &mut after, &gid, last).await;
        (before, after)
    };

    let (sent, (before, after)) = tokio::join!(sender, listener);

    let first_seqs: Vec<u64> = before.group(&gid).iter().map(|(s, _)| *s).collect();
    let second_seqs: Vec<u64> = after.group(&gid).iter().map(|(s, _)| *s).collect();
    let last_before = *first_seqs.last().unwrap();
    assert_eq!(first_seqs[0], added_at + 1, "nothing skipped at the start");
    assert_eq!(
        second_seqs[0],
        last_before + 1,
        "the new connection starts right after the positions it gave"
    );
    assert!(
        second_seqs.len() > WHILE_AWAY,
        "what was stored while away came on the new connection"
    );
    let all: Vec<u64> = first_seqs.iter().chain(&second_seqs).copied().collect();
    assert_eq!(
        all,
        (added_at + 1..=last).collect::<Vec<_>>(),
        "no gap, no repeat"
    );

    // Every message arrived once, in order, and bob can read each.
    let messages = before.group(&gid).iter().chain(after.group(&gid));
    for ((_, message), text) in messages.zip(&sent) {
        assert_eq!(
            bob.receive(message),
            common::Received::Application(text.clone())
        );
    }
    server.stop().await;
}

on_both_backends!(a_reconnecting_listener_misses_nothing);
