//! Two processes of ds-a.test on one PostgreSQL database and one keyring
//! (spec §11.5, one sender per destination): clients send through both,
//! yet only the holder of B's lease delivers, so B's clients get every
//! entry once and in order and B never sees an entry twice. Then the
//! holder is killed (kill -9, lease still running): once its lease lapses
//! the other process takes over and delivers what it accepted meanwhile.
//! Needs `MIMI_TEST_POSTGRES_URL` (skipped like the cluster tests).

use ds_core::wire::DsResponseBody;
use sqlx::Row;

use crate::member::Got;
use crate::net::Endpoint;
use crate::node::Node;
use crate::support::TestDb;
use crate::traffic::{drained, reads, total};
use crate::tune::{Tuning, tune};
use crate::world::{A, World};

const ALICE: &str = "alice@ds-a.test/laptop";
const CAROL: &str = "carol@ds-a.test/phone";
const BOB: &str = "bob@ds-b.test/phone";
const DAVE: &str = "dave@ds-b.test/laptop";
const MEMBERS: [&str; 4] = [ALICE, CAROL, BOB, DAVE];

const SENT: &str = "mimi_ds_fanout_sent_entries_total";
const TO_B: &str = "destination=\"ds-b.test\"";

/// Restarts `node` on the shared database.
fn on_database(node: &mut Node, url: &str) {
    node.stop();
    let tuning = Tuning {
        database_url: Some(url.to_owned()),
        ..Tuning::default()
    };
    tune(node, &tuning);
    node.restart();
}

/// A second process of ds-a.test beside `w.a`: its certificate and a
/// copy of its keyring (the groups' external-sender key), the same database.
fn second_replica(w: &World, url: &str) -> Node {
    let mut config = w.a.config.clone();
    config.data_dir = w.dir.path().join("ds-a.test-2");
    let keys = config.data_dir.join("ds-keys");
    std::fs::create_dir_all(&keys).unwrap();
    for file in std::fs::read_dir(w.a.key_dir()).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), keys.join(file.file_name())).unwrap();
    }
    let mut node = Node::start(config);
    on_database(&mut node, url);
    node
}

/// The process id in the holder of B's lease (`{pid}-…`).
async fn lease_holder(db: &TestDb) -> u32 {
    let rows = sqlx::query("SELECT holder FROM outbox_leases WHERE destination = 'ds-b.test'")
        .fetch_all(db.inspector())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one lease on B");
    let holder: String = rows[0].get(0);
    holder.split('-').next().unwrap().parse().unwrap()
}

/// Each of `sends` (sender, process, text) accepted in turn as the next
/// entry; then every member reads up to the end and got each entry once,
/// in order (its own as its own), B's clients from B's replica.
async fn round(w: &mut World, sends: &[(&str, &Endpoint, &[u8])]) {
    let mut expected: Vec<Vec<Got>> = vec![Vec::new(); MEMBERS.len()];
    for (by, via, text) in sends {
        let request = w.member(by).message(text);
        assert_eq!(
            via.ds(&request).await,
            DsResponseBody::Ok,
            "{by} via {}",
            via.addr
        );
        w.seq += 1;
        for (reader, got) in MEMBERS.iter().zip(expected.iter_mut()) {
            got.push(if reader == by {
                Got::Own
            } else {
                Got::App(text.to_vec())
            });
        }
    }
    let (gid, seq) = (w.gid().as_str().to_owned(), w.seq);
    for (reader, got) in MEMBERS.iter().zip(&expected) {
        if w.home(reader).domain == A {
            assert_eq!(&w.read_to(reader, seq).await, got, "{reader} up to {seq}");
        } else {
            reads(w, reader, &gid, seq, got, 2..=seq).await;
        }
    }
}

/// Entries B stored, and entries it was sent again.
async fn b_counts(w: &World) -> (f64, f64) {
    let name = "mimi_ds_fanout_entries_total";
    let applied = w.b.counter(name, &["outcome=\"applied\""]).await;
    (applied, w.b.counter(name, &["outcome=\"duplicate\""]).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_deliver_once_through_one_lease_and_take_over_from_a_dead_holder() {
    if std::env::var_os("MIMI_TEST_POSTGRES_URL").is_none() {
        eprintln!("MIMI_TEST_POSTGRES_URL is not set: the replica test is skipped");
        return;
    }
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut w = World::start().await;
    on_database(&mut w.a, &db.url);
    w.to_a.point_to(Some(w.a.public));
    let mut second = second_replica(&w, &db.url);
    for node in [&w.a, &second] {
        assert_eq!(node.status().await["database"], "postgres");
    }

    w.enrol(&MEMBERS).await;
    w.create_group(ALICE).await;
    w.add(ALICE, &[CAROL, BOB, DAVE]).await;
    w.all_get(&[ALICE], &[Got::Own]).await;

    // Through both processes, from both domains.
    let (one, two) = (w.a.endpoint(), second.endpoint());
    round(
        &mut w,
        &[
            (ALICE, &one, b"alice via one"),
            (CAROL, &two, b"carol via two"),
            (BOB, &two, b"bob via two"),
            (ALICE, &two, b"alice via two"),
            (DAVE, &one, b"dave via one"),
            (CAROL, &one, b"carol via one"),
        ],
    )
    .await;
    drained(&w.a).await;
    let sent = total(&[&w.a, &second], SENT, &[TO_B]).await;
    let (applied, duplicates) = b_counts(&w).await;
    assert_eq!(duplicates, 0.0, "B was sent an entry twice");
    assert_eq!(
        sent, applied,
        "entries sent by A's processes and stored by B"
    );

    // Kill -9 the holder of B's lease: the other takes over once it lapses.
    let holder = lease_holder(&db).await;
    let pids = (w.a.pid().unwrap(), second.pid().unwrap());
    assert!(
        holder == pids.0 || holder == pids.1,
        "lease held by {holder}, not by {pids:?}"
    );
    if holder == pids.0 {
        w.a.kill9();
        std::mem::swap(&mut w.a, &mut second);
        w.to_a.point_to(Some(w.a.public));
    } else {
        second.kill9();
    }
    let survivor = w.a.endpoint();
    round(
        &mut w,
        &[
            (ALICE, &survivor, b"after the holder died"),
            (BOB, &survivor, b"bob still here"),
            (CAROL, &survivor, b"carol too"),
        ],
    )
    .await;
    drained(&w.a).await;
    assert_eq!(
        lease_holder(&db).await,
        w.a.pid().unwrap(),
        "the survivor holds B's lease"
    );
    let (_, duplicates) = b_counts(&w).await;
    assert_eq!(duplicates, 0.0, "B was sent an entry twice");
}
