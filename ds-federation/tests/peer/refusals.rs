//! Peers the client must refuse, and failures it must report typed.

use std::time::Duration;

use ds_core::wire::DsErrorCode;
use ds_federation::{PeerClient, PeerClientConfig, PeerError, PeerKeys};
use tokio::net::TcpListener;

use crate::pki::TestCa;
use crate::server::Peer;
use crate::{A, REFETCH, TTL, World, client_trusting, domain};

fn tls_refused(result: Result<impl std::fmt::Debug, PeerError>) -> String {
    match result {
        Err(e @ PeerError::Tls { .. }) => {
            assert_eq!(e.reason(), "tls");
            e.to_string()
        }
        other => panic!("expected a TLS refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused() {
    let world = World::new();
    let other_ca = TestCa::new(world.dir.path(), "other-ca");
    let peer = Peer::start(other_ca.server_config(A, &[b"h2"]), world.state(A, None)).await;
    let client = world.client(&[(A, peer.addr.to_string())]);
    let why = tls_refused(client.signature_public_keys(&domain(A)).await);
    assert!(why.contains("UnknownIssuer"), "{why}");
    assert_eq!(peer.key_requests(), 0);

    let keys = PeerKeys::new(client, TTL, REFETCH);
    let err = keys.keys(&domain(A), 1).await.unwrap_err();
    assert_eq!(err.code, DsErrorCode::PeerUnavailable);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let world = World::new();
    let peer = world.peer("elsewhere.example").await;
    let client = world.client(&[(A, peer.addr.to_string())]);
    let why = tls_refused(client.signature_public_keys(&domain(A)).await);
    assert!(why.contains("not valid for name"), "{why}");
    assert_eq!(peer.key_requests(), 0);
}

#[tokio::test]
async fn a_peer_without_http2_is_refused() {
    let world = World::new();
    let peer = Peer::start(world.ca.server_config(A, &[]), world.state(A, None)).await;
    let client = world.client(&[(A, peer.addr.to_string())]);
    let why = tls_refused(client.signature_public_keys(&domain(A)).await);
    assert!(why.contains("h2"), "{why}");
}

#[tokio::test]
async fn plain_http_is_never_spoken() {
    // A plain-text HTTP/1.1 server: the client's TLS handshake fails on it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut tcp, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = tcp.read(&mut buf).await;
            let _ = tcp
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let world = World::new();
    let client = world.client(&[(A, addr.to_string())]);
    tls_refused(client.signature_public_keys(&domain(A)).await);

    // And no configuration can name a plain-HTTP peer.
    let config = PeerClientConfig {
        trust_roots: vec![world.ca.cert.clone()],
        peers: [(domain(A), format!("http://{addr}"))]
            .into_iter()
            .collect(),
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
    };
    assert!(PeerClient::new(config).is_err());
}

#[tokio::test]
async fn a_peer_that_is_down_is_unavailable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let world = World::new();
    let client = world.client(&[(A, addr.to_string())]);
    let err = client.signature_public_keys(&domain(A)).await.unwrap_err();
    assert_eq!(err.reason(), "connect", "{err}");
    let keys = PeerKeys::new(client, TTL, REFETCH);
    let err = keys.keys(&domain(A), 1).await.unwrap_err();
    assert_eq!(err.code, DsErrorCode::PeerUnavailable);
}

#[tokio::test]
async fn a_peer_that_never_answers_times_out() {
    // Accepts TCP, never speaks TLS.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            open.push(tcp);
        }
    });
    let world = World::new();
    let client = PeerClient::new(PeerClientConfig {
        trust_roots: vec![world.ca.cert.clone()],
        peers: [(domain(A), addr.to_string())].into_iter().collect(),
        connect_timeout: Duration::from_millis(200),
        request_timeout: Duration::from_secs(5),
    })
    .unwrap();
    let err = client.signature_public_keys(&domain(A)).await.unwrap_err();
    assert_eq!(err.reason(), "timeout", "{err}");
    held.abort();
}

#[tokio::test]
async fn another_status_than_200_is_kept() {
    let world = World::new();
    let peer = world.peer(A).await;
    let client = world.client(&[(A, peer.addr.to_string())]);
    let err = client
        .post(&domain(A), "/no/such/endpoint", vec![])
        .await
        .unwrap_err();
    assert_eq!(err.reason(), "http_status");
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    // The connection survives a refused request.
    client.signature_public_keys(&domain(A)).await.unwrap();
    assert_eq!(peer.connections(), 1);
}

#[tokio::test]
async fn without_trust_roots_the_system_roots_refuse_a_test_ca() {
    let world = World::new();
    let peer = world.peer(A).await;
    let client = client_trusting(vec![], &[(A, peer.addr.to_string())]);
    tls_refused(client.signature_public_keys(&domain(A)).await);
}
