//! `kill -9` of the server while many messages are in flight, then a
//! restart on the same database: every message acknowledged to its sender
//! is in the log, numbers have no gap, nothing is stored twice, and the DS
//! goes on numbering from where it stopped.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ds_core::wire::{Bytes, DsRequestBody, DsResponseBody, SendMessageRequest};

use crate::common::{self, Client};
use crate::net::H2;
use crate::process::DsProcess;
use crate::qs::{Positions, sync_all};
use crate::setup::group_of;
use crate::support::{TestDb, on_both_backends};

/// Messages prepared for the load; the server is killed long before all are sent.
const PREPARED: usize = 4_000;
/// Acknowledged messages to wait for before the kill.
const ACKED_BEFORE_KILL: usize = 400;
const SENDERS: usize = 24;

/// One prepared message: the encoded request and the MLS bytes stored for it.
struct Prepared {
    request: ds_core::wire::DsRequest,
    message: Vec<u8>,
}

async fn acknowledged_messages_survive_kill_9(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("ds");
    let mut server = DsProcess::start(&data_dir, &db.url, common::DOMAIN);
    let conn = H2::connect(server.public, &server.cert).await.unwrap();
    let mut members = vec![
        Client::new(&format!("alice@{}/laptop", common::DOMAIN)),
        Client::new(&format!("bob@{}/phone", common::DOMAIN)),
    ];
    let (gid, mut positions) = group_of(&conn, &mut members).await;

    let prepared: Arc<Vec<Prepared>> = Arc::new(
        (0..PREPARED)
            .map(|i| {
                let message = members[0].message(format!("load {i}").as_bytes());
                let request = members[0].signed(DsRequestBody::SendMessage(SendMessageRequest {
                    application_message: Bytes::new(message.clone()).unwrap(),
                }));
                Prepared { request, message }
            })
            .collect(),
    );

    // Senders pull the next prepared message until the transport fails.
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::<usize>::new()));
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (conn, prepared, next, acked) = (
            conn.clone(),
            Arc::clone(&prepared),
            Arc::clone(&next),
            Arc::clone(&acked),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = prepared.get(i) else { return };
                match conn.ds(&item.request).await {
                    Ok(DsResponseBody::Ok) => acked.lock().unwrap().push(i),
                    Ok(other) => panic!("message {i} refused: {other:?}"),
                    Err(_) => return, // the server is gone: outcome unknown
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.lock().unwrap().len() < ACKED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill9();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked: Vec<usize> = acked.lock().unwrap().clone();
    let attempted = next.load(Ordering::SeqCst).min(PREPARED);
    assert!(
        attempted > acked.len(),
        "the kill must interrupt requests in flight (attempted {attempted}, acked {})",
        acked.len()
    );

    // Restart on the same data directory and database.
    let server = DsProcess::start(&data_dir, &db.url, common::DOMAIN);
    let conn = H2::connect(server.public, &server.cert).await.unwrap();
    let bob = &members[1];
    let (_, entries) = sync_all(&conn, bob, &mut positions[1]).await;
    let stored: Vec<&[u8]> = entries.iter().map(|e| e.message.as_slice()).collect();
    assert!(entries.iter().all(|e| e.group_id == gid));

    // No gap: bob's entries are numbered consecutively.
    for pair in entries.windows(2) {
        assert_eq!(pair[1].sequence, pair[0].sequence + 1, "gap in the log");
    }
    // Nothing twice, nothing that was not sent.
    let unique: HashSet<&[u8]> = stored.iter().copied().collect();
    assert_eq!(unique.len(), stored.len(), "a message was stored twice");
    let sent: HashSet<&[u8]> = prepared[..attempted]
        .iter()
        .map(|p| p.message.as_slice())
        .collect();
    assert!(stored.iter().all(|m| sent.contains(m)), "unknown entry");
    // Every acknowledged message is there.
    for &i in &acked {
        assert!(
            unique.contains(prepared[i].message.as_slice()),
            "acknowledged message {i} was lost"
        );
    }
    assert!(stored.len() >= acked.len());

    // The restarted DS keeps numbering without a gap.
    let last = entries.last().map(|e| e.sequence).unwrap();
    let after = members[0].message(b"after the restart");
    let answer = conn
        .ds(
            &members[0].signed(DsRequestBody::SendMessage(SendMessageRequest {
                application_message: Bytes::new(after.clone()).unwrap(),
            })),
        )
        .await
        .unwrap();
    assert!(matches!(answer, DsResponseBody::Ok), "{answer:?}");
    let mut again: Positions = positions[1].clone();
    let (_, more) = sync_all(&conn, &members[1], &mut again).await;
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].sequence, last + 1);
    assert_eq!(more[0].message.as_slice(), after.as_slice());
}

on_both_backends!(acknowledged_messages_survive_kill_9);
