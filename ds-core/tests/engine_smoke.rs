//! The engine's accepted paths, end to end with real openmls clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use ds_core::wire::*;

#[test]
fn create_add_message_update_remove() {
    let mut w = World::new("alice@ds-a.example/laptop");
    w.add(
        "alice@ds-a.example/laptop",
        &["bob@ds-b.example/phone", "carol@ds-a.example/pc"],
        false,
    );
    w.assert_converged();
    assert_eq!(w.group.epoch(), 1);

    let a = w.idx("alice@ds-a.example/laptop");
    let msg = w.clients[a].message(b"hello");
    let request = w.clients[a].signed(DsRequestBody::SendMessage(SendMessageRequest {
        application_message: Bytes::new(msg).unwrap(),
    }));
    let outcome = w.process(&request).unwrap();
    assert_eq!(group_messages(&outcome).len(), 1);
    w.fan_out(&outcome, a);

    let b = w.idx("bob@ds-b.example/phone");
    let (update, _) = w.clients[b].commit_with(|cb| cb.force_self_update(true));
    let request = w.clients[b].signed(DsRequestBody::UpdateClient(update_request(update)));
    let outcome = w.process(&request).unwrap();
    w.clients[b].merge();
    w.fan_out(&outcome, b);
    w.assert_converged();

    let saved = w.group.to_bytes().unwrap();
    let restored = ds_core::group::DsGroup::from_bytes(&saved).unwrap();
    assert_eq!(restored.to_bytes().unwrap(), saved);
    assert_eq!(restored.tree_hash(), w.group.tree_hash());
}
