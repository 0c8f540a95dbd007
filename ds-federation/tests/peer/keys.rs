//! Fetching and caching a peer's published DS keys.

use std::sync::Arc;

use ds_core::federation::VoucherKeys;
use ds_core::wire::DsErrorCode;
use ds_federation::PeerKeys;

use crate::server::{GRACE, Peer, unix_now};
use crate::{A, REFETCH, TTL, World, domain};

#[tokio::test]
async fn keys_are_fetched_once_then_served_from_the_cache() {
    let world = World::new();
    let peer = world.peer(A).await;
    let keys = PeerKeys::new(world.client(&[(A, peer.addr.to_string())]), TTL, REFETCH);
    let t = 1_000_000;

    assert!(VoucherKeys::keys(&keys, &domain(A)).is_none());
    let first = keys.keys(&domain(A), t).await.unwrap();
    assert_eq!(first, peer.state.keyring.published(unix_now(), GRACE));
    assert_eq!(
        first[0].key_id.as_slice(),
        peer.state.keyring.current().key_id()
    );
    keys.keys(&domain(A), t + 1).await.unwrap();
    keys.keys(&domain(A), t + TTL.as_secs() - 1).await.unwrap();
    assert_eq!(peer.key_requests(), 1);
    // The engine's view: the cached keys, no I/O.
    assert_eq!(VoucherKeys::keys(&keys, &domain(A)), Some(first.clone()));

    // Past the TTL: fetched again, over the same connection.
    keys.keys(&domain(A), t + TTL.as_secs()).await.unwrap();
    assert_eq!(peer.key_requests(), 2);
    assert_eq!(peer.connections(), 1);
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let world = World::new();
    let peer = world.peer(A).await;
    let keys = PeerKeys::new(world.client(&[(A, peer.addr.to_string())]), TTL, REFETCH);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let keys = keys.clone();
            tokio::spawn(async move { keys.keys(&domain(A), 5_000).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(peer.key_requests(), 1);
}

#[tokio::test]
async fn an_unknown_key_id_refetches_at_most_once_per_interval() {
    let world = World::new();
    let peer = world.peer(A).await;
    let keys = PeerKeys::new(world.client(&[(A, peer.addr.to_string())]), TTL, REFETCH);
    let t = 2_000_000;
    let old = peer.state.keyring.current();
    keys.keys_with(&domain(A), old.key_id(), t).await.unwrap();
    assert_eq!(peer.key_requests(), 1);

    let new = peer.state.keyring.rotate(unix_now()).unwrap();
    // Right after the ordinary fetch: an unknown id is fetched at once (only
    // refetches for unknown ids count against the interval).
    let fetched = keys
        .keys_with(&domain(A), new.key_id(), t + 1)
        .await
        .unwrap();
    assert_eq!(peer.key_requests(), 2);
    assert_eq!(fetched[0].key_id.as_slice(), new.key_id());
    assert!(fetched.iter().any(|k| k.key_id.as_slice() == old.key_id()));
    // Known ids need no fetch.
    keys.keys_with(&domain(A), old.key_id(), t + 2)
        .await
        .unwrap();
    assert_eq!(peer.key_requests(), 2);

    // A made-up id within the interval of that refetch: refused, not fetched.
    let made_up = [0xAB; 8];
    let err = keys
        .keys_with(&domain(A), &made_up, t + 2)
        .await
        .unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnknownSigningKey);
    assert_eq!(peer.key_requests(), 2);
    // After it: one refetch, and still unknown.
    let later = t + 1 + REFETCH.as_secs();
    let err = keys
        .keys_with(&domain(A), &made_up, later)
        .await
        .unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnknownSigningKey);
    assert_eq!(peer.key_requests(), 3);
    let err = keys
        .keys_with(&domain(A), &made_up, later + 1)
        .await
        .unwrap_err();
    assert_eq!(err.code, DsErrorCode::UnknownSigningKey);
    assert_eq!(peer.key_requests(), 3);
}

#[tokio::test]
async fn a_dropped_connection_is_opened_again() {
    let world = World::new();
    let tls = world.ca.server_config(A, &[b"h2"]);
    let mut peer = Peer::start(Arc::clone(&tls), world.state(A, None)).await;
    let client = world.client(&[(A, peer.addr.to_string())]);
    client.signature_public_keys(&domain(A)).await.unwrap();
    client.signature_public_keys(&domain(A)).await.unwrap();
    assert_eq!(peer.connections(), 1);

    peer.stop().await;
    let (addr, state) = (peer.addr, Arc::clone(&peer.state));
    drop(peer);
    let peer = Peer::restart(addr, tls, state).await;
    client.signature_public_keys(&domain(A)).await.unwrap();
    assert_eq!(peer.key_requests(), 3);
    assert_eq!(peer.connections(), 2);
}
