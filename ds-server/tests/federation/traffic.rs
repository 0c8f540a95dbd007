//! Steps the delivery scenarios share: a client sending a run of messages
//! through a chosen DS process, a guest client's queue checked entry by
//! entry, an outbox waited on until it drains, counters summed.

use crate::member::Got;
use crate::net::Endpoint;
use crate::node::Node;
use crate::poll::Wait;
use crate::world::World;

/// `by` sends each of `texts` through `via` (a process of the owning
/// domain); each is accepted as the group's next entry and `by` reads it
/// back as its own from its home DS.
pub async fn sends_via(w: &mut World, by: &str, via: &Endpoint, texts: &[&[u8]]) {
    for text in texts {
        let request = w.member(by).message(text);
        let answer = via.ds(&request).await;
        assert_eq!(
            answer,
            ds_core::wire::DsResponseBody::Ok,
            "{by}'s message through {}",
            via.addr
        );
        w.seq += 1;
        let seq = w.seq;
        let got = w.read_to(by, seq).await;
        assert_eq!(got, vec![Got::Own], "{by} reading its own message {seq}");
    }
}

/// [`sends_via`] the owning DS as the world knows it.
pub async fn sends(w: &mut World, by: &str, texts: &[&[u8]]) {
    let owner = w.owner();
    sends_via(w, by, &owner, texts).await;
}

/// Application messages as a reader gets them.
pub fn apps(texts: &[&[u8]]) -> Vec<Got> {
    texts.iter().map(|t| Got::App(t.to_vec())).collect()
}

/// `id` reads its home DS up to entry `seq` of `group` and got exactly
/// `expected`; its queue there holds each entry of `numbers` once, in
/// order, and nothing else of the group.
pub async fn reads(
    w: &mut World,
    id: &str,
    group: &str,
    seq: u64,
    expected: &[Got],
    numbers: std::ops::RangeInclusive<u64>,
) {
    let got = w.read_to(id, seq).await;
    assert_eq!(got, expected, "{id} reading {group} up to {seq}");
    assert_eq!(w.member(id).duplicates, 0, "{id} was served entries twice");
    let home = w.home(id);
    let queue = w.member(id).queue(&home).await;
    let held: Vec<u64> = queue.group(group).iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        held,
        numbers.collect::<Vec<_>>(),
        "{id}'s queue of {group} on {}",
        home.domain
    );
}

/// Waits until `node`'s outbox is empty.
pub async fn drained(node: &Node) {
    let wait = Wait::new(format!("{}'s outbox to drain", node.domain()));
    while node.outbox_depth().await != 0 {
        wait.step().await;
    }
}

/// Counter `name` with `labels`, summed over `nodes`.
pub async fn total(nodes: &[&Node], name: &str, labels: &[&str]) -> f64 {
    let mut sum = 0.0;
    for node in nodes {
        sum += node.counter(name, labels).await;
    }
    sum
}
