//! Graceful shutdown: readiness turns 503, new connections are refused,
//! in-flight requests finish, then everything stops.

use std::time::Duration;

use ds_core::wire::DsResponseBody;
use ds_server::http::Limits;
use http::StatusCode;

use crate::support::{
    GatedEndpoint, Proto, TestServer, admin_get, ds_post, send_to, signature_key_request,
};

#[tokio::test]
async fn in_flight_request_finishes_and_readyz_flips_to_503() {
    for proto in [Proto::H2, Proto::Http1] {
        let gate = GatedEndpoint::default();
        let mut server = TestServer::start(gate.clone(), Limits::default()).await;
        let (public, cert) = (server.public, server.cert.clone());
        let in_flight = tokio::spawn(async move {
            send_to(public, &cert, proto, ds_post(signature_key_request())).await
        });
        gate.arrived().await;

        assert_eq!(admin_get(server.admin, "/readyz").await.0, StatusCode::OK);
        server.begin_shutdown();
        // Readiness flips while the in-flight request keeps the server draining.
        let mut flipped = false;
        for _ in 0..100 {
            if admin_get(server.admin, "/readyz").await.0 == StatusCode::SERVICE_UNAVAILABLE {
                flipped = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(flipped, "/readyz did not turn 503 ({proto:?})");
        assert_eq!(admin_get(server.admin, "/healthz").await.0, StatusCode::OK);
        // New connections are refused once the listener is closed.
        assert!(tokio::net::TcpStream::connect(server.public).await.is_err());
        assert!(
            !server.is_finished(),
            "server stopped with a request in flight"
        );

        gate.release();
        let answer = tokio::time::timeout(Duration::from_secs(5), in_flight)
            .await
            .expect("in-flight request did not finish")
            .unwrap();
        assert_eq!(answer.ds_response().body, DsResponseBody::Ok);
        let admin = server.admin;
        server.stop().await;
        assert!(tokio::net::TcpStream::connect(admin).await.is_err());
    }
}
