//! A signed fan-out request, delivered to a peer that fetches the sender's
//! keys from the sender and verifies the signature with ds-core.

use ds_core::wire::{
    DsErrorCode, DsFanoutEntry, DsFanoutRequest, DsFanoutResponseBody, FanoutEntryKind, GroupId,
    List, MlsBytes, ProtocolVersion, ShortBytes,
};
use ds_federation::{PeerKeys, sign_fanout};

use crate::server::{Peer, unix_now};
use std::time::Duration;

use crate::{A, B, TTL, World, domain};

fn request(timestamp: u64) -> DsFanoutRequest {
    DsFanoutRequest {
        version: ProtocolVersion::V1,
        sender: domain(A),
        recipient_domain: domain(B),
        key_id: ShortBytes::default(),
        timestamp,
        entries: List::new(vec![DsFanoutEntry {
            group_id: GroupId::from_parts("g", &domain(A)).unwrap(),
            sequence: 1,
            kind: FanoutEntryKind::GroupMessage,
            recipients: List::new(vec![]).unwrap(),
            mls_message: MlsBytes::new(b"mls".to_vec()).unwrap(),
        }])
        .unwrap(),
        signature: ShortBytes::default(),
    }
}

#[tokio::test]
async fn a_signed_fanout_is_accepted_and_a_tampered_one_refused() {
    let world = World::new();
    let a = world.peer(A).await;
    // B verifies senders with keys fetched from them over the same kind of
    // client; it may refetch at once (the rate limit is tested with keys.rs).
    let b_keys = PeerKeys::new(
        world.client(&[(A, a.addr.to_string())]),
        TTL,
        Duration::ZERO,
    );
    let b = Peer::start(
        world.ca.server_config(B, &[b"h2"]),
        world.state(B, Some(b_keys)),
    )
    .await;
    let a_client = world.client(&[(B, b.addr.to_string())]);

    let mut signed = request(unix_now());
    sign_fanout(&a.state.keyring.current(), &mut signed).unwrap();
    assert_eq!(
        a_client.fanout(&signed).await.unwrap(),
        DsFanoutResponseBody::Ok
    );
    assert_eq!(a.key_requests(), 1);

    let mut tampered = signed.clone();
    tampered.timestamp += 1;
    match a_client.fanout(&tampered).await.unwrap() {
        DsFanoutResponseBody::Error(e) => assert_eq!(e.code, DsErrorCode::InvalidDsSignature),
        other => panic!("tampered request answered {other:?}"),
    }

    // Signed with a key A has since rotated to: B refetches once and accepts.
    let new = a.state.keyring.rotate(unix_now()).unwrap();
    let mut by_new = request(unix_now());
    sign_fanout(&new, &mut by_new).unwrap();
    assert_eq!(
        a_client.fanout(&by_new).await.unwrap(),
        DsFanoutResponseBody::Ok
    );
    assert_eq!(a.key_requests(), 2);

    // A key id A never had: B refetches, still unknown, refuses.
    let mut unknown = request(unix_now());
    sign_fanout(&new, &mut unknown).unwrap();
    unknown.key_id = ShortBytes::new(vec![0xAB; 8]).unwrap();
    match a_client.fanout(&unknown).await.unwrap() {
        DsFanoutResponseBody::Error(e) => assert_eq!(e.code, DsErrorCode::UnknownSigningKey),
        other => panic!("unknown key answered {other:?}"),
    }
    assert_eq!(a.key_requests(), 3);
    // Every request went over one connection.
    assert_eq!(b.connections(), 1);
}
