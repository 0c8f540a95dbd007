//! The federation outbox: per-destination order, deletion, depth.

use ds_server::storage::{AppendMessage, NewOutboxEntry};

use crate::support::{TestDb, at, commit, create_group, on_both_backends};

on_both_backends!(outbox_keeps_order_per_destination_until_acknowledged);

const ALICE: &str = "alice@a.example/1";

fn to(destination: &str, payload: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        destination: destination.to_owned(),
        payload: payload.as_bytes().to_vec(),
    }
}

async fn outbox_keeps_order_per_destination_until_acknowledged(db: TestDb) {
    let store = &db.store;
    let g = "g@a.example";
    let row = create_group(store, g, &[ALICE]).await;
    let mut change = commit(g, &row, ALICE);
    change.outbox = vec![to("b.example", "commit"), to("c.example", "commit")];
    store.commit_group_change(&change, at(1)).await.unwrap();
    for body in ["m1", "m2"] {
        let message = AppendMessage {
            group_id: g.to_owned(),
            expected_epoch: row.epoch + 1,
            sender: ALICE.to_owned(),
            message: body.as_bytes().to_vec(),
            outbox: vec![to("b.example", body)],
        };
        store.append_messages(&[message], at(2)).await.unwrap();
    }

    assert_eq!(store.outbox_depth().await.unwrap(), 4);
    assert_eq!(
        store.outbox_destinations().await.unwrap(),
        vec!["b.example", "c.example"]
    );
    let b = store.outbox_pending("b.example", 10).await.unwrap();
    let got: Vec<(&[u8], Option<u64>)> = b.iter().map(|e| (&e.payload[..], e.last_seq)).collect();
    assert_eq!(
        got,
        vec![
            (&b"commit"[..], Some(1)),
            (&b"m1"[..], Some(2)),
            (&b"m2"[..], Some(3))
        ]
    );
    assert!(b.windows(2).all(|w| w[0].id < w[1].id));
    assert!(
        b.iter()
            .all(|e| e.destination == "b.example" && e.group_id.as_deref() == Some(g))
    );
    assert_eq!(store.outbox_pending("b.example", 2).await.unwrap(), b[..2]);

    // Acknowledged ones go; a repeated acknowledgement is harmless.
    assert_eq!(store.outbox_delete(&[b[0].id, b[1].id]).await.unwrap(), 2);
    assert_eq!(store.outbox_delete(&[b[0].id]).await.unwrap(), 0);
    assert_eq!(store.outbox_pending("b.example", 10).await.unwrap(), b[2..]);
    assert_eq!(store.outbox_depth().await.unwrap(), 2);
    assert!(
        store
            .outbox_pending("nowhere.example", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
