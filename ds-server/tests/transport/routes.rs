//! The public listener: ALPN, routing, protocol errors and transport refusals.

use std::time::Duration;

use ds_core::wire::{DsErrorCode, DsResponseBody};
use ds_server::http::Limits;
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    Proto, TestServer, TransportDouble, ds_post, request, request_group_id_request, send,
    signature_key_request,
};

#[tokio::test]
async fn http2_is_negotiated_via_alpn() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let answer = send(&server, Proto::H2, ds_post(signature_key_request())).await;
    assert_eq!(answer.alpn.as_deref(), Some(&b"h2"[..]));
    assert_eq!(answer.version, http::Version::HTTP_2);
    assert_eq!(answer.ds_response().body, DsResponseBody::Ok);
    server.stop().await;
}

#[tokio::test]
async fn http1_fallback_works() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let answer = send(&server, Proto::Http1, ds_post(signature_key_request())).await;
    assert_eq!(answer.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(answer.version, http::Version::HTTP_11);
    assert_eq!(answer.ds_response().body, DsResponseBody::Ok);
    server.stop().await;
}

#[tokio::test]
async fn endpoint_refusals_are_http_200() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let answer = send(&server, Proto::H2, ds_post(request_group_id_request())).await;
    assert_eq!(answer.ds_error_code(), DsErrorCode::UnsupportedOperation);
    server.stop().await;
}

#[tokio::test]
async fn garbage_body_is_malformed_message() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    for proto in [Proto::H2, Proto::Http1] {
        let answer = send(&server, proto, ds_post(&b"\x00\x01garbage"[..])).await;
        assert_eq!(answer.ds_error_code(), DsErrorCode::MalformedMessage);
        let answer = send(&server, proto, ds_post(Vec::new())).await;
        assert_eq!(answer.ds_error_code(), DsErrorCode::MalformedMessage);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_version_is_unsupported_version() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let mut body = signature_key_request();
    body[..2].copy_from_slice(&[0x00, 0x09]);
    let answer = send(&server, Proto::H2, ds_post(body)).await;
    let response = answer.ds_response();
    assert_eq!(response.version.0, 1, "errors are answered in version 1");
    assert_eq!(answer.ds_error_code(), DsErrorCode::UnsupportedVersion);
    server.stop().await;
}

#[tokio::test]
async fn oversize_body_is_413() {
    let limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let server = TestServer::start(TransportDouble, limits).await;
    for proto in [Proto::H2, Proto::Http1] {
        let answer = send(&server, proto, ds_post(vec![0u8; 4096])).await;
        assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{proto:?}");
    }
    // At the limit is still fine (and reaches the protocol layer).
    let mut at_limit = vec![0u8; 1024];
    at_limit[1] = 1; // version 1, then trailing bytes
    let answer = send(&server, Proto::H2, ds_post(at_limit)).await;
    assert_eq!(answer.ds_error_code(), DsErrorCode::MalformedMessage);
    server.stop().await;
}

#[tokio::test]
async fn oversize_streamed_body_without_length_is_413() {
    let limits = Limits {
        max_body_bytes: 1024,
        ..Limits::default()
    };
    let server = TestServer::start(TransportDouble, limits).await;
    // HTTP/2 data frames without content-length: the limit applies while reading.
    let stream = crate::support::connect(&server, Proto::H2).await;
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let request = http::Request::post(format!("https://localhost{}", ds_server::http::DS_PATH))
        .header(http::header::CONTENT_TYPE, ds_server::http::MEDIA_TYPE)
        .body(Chunks { left: 8 })
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    server.stop().await;
}

/// A body of `left` 512-byte chunks whose length is not announced.
struct Chunks {
    left: usize,
}

impl hyper::body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if self.left == 0 {
            return std::task::Poll::Ready(None);
        }
        self.left -= 1;
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(bytes::Bytes::from(
            vec![0u8; 512],
        )))))
    }
}

#[tokio::test]
async fn unknown_path_is_404() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    for proto in [Proto::H2, Proto::Http1] {
        let answer = send(&server, proto, request(Method::POST, "/mimi/v1/nope", "x")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_method_is_405() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    for method in [Method::GET, Method::PUT] {
        let answer = send(
            &server,
            Proto::H2,
            request(method, ds_server::http::DS_PATH, ""),
        )
        .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let mut req = ds_post(signature_key_request());
    req.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    let answer = send(&server, Proto::Http1, req).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut req = ds_post(signature_key_request());
    req.headers_mut().remove(http::header::CONTENT_TYPE);
    let answer = send(&server, Proto::H2, req).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    server.stop().await;
}

#[tokio::test]
async fn plain_http_to_the_tls_port_fails() {
    let server = TestServer::start(TransportDouble, Limits::default()).await;
    let mut tcp = tokio::net::TcpStream::connect(server.public).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf))
        .await
        .expect("server must close the connection");
    // The server closes (or resets) without ever speaking HTTP.
    assert!(read.is_err() || !buf.starts_with(b"HTTP/"), "got {buf:?}");
    server.stop().await;
}

#[tokio::test]
async fn stalled_tls_handshake_is_dropped() {
    let limits = Limits {
        tls_handshake_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let server = TestServer::start(TransportDouble, limits).await;
    let mut tcp = tokio::net::TcpStream::connect(server.public).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("server must drop a client that never starts TLS");
    assert!(matches!(read, Ok(0) | Err(_)));
    server.stop().await;
}

#[tokio::test]
async fn slow_http1_request_head_is_cut_off() {
    let limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = TestServer::start(TransportDouble, limits).await;
    let mut tls = crate::support::connect(&server, Proto::Http1).await;
    // An incomplete head that is never finished.
    tls.write_all(b"POST /mimi/v1/ds HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut buf))
        .await
        .expect("server must close a connection whose head never completes");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Closed, possibly after a 408, but never with a protocol answer.
    let text = String::from_utf8_lossy(&buf);
    assert!(
        read.is_err() || buf.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let limits = Limits {
        max_connections: 1,
        ..Limits::default()
    };
    let server = TestServer::start(TransportDouble, limits).await;
    let first = crate::support::connect(&server, Proto::H2).await;
    let second = tokio::spawn({
        let (addr, cert) = (server.public, server.cert.clone());
        async move {
            crate::support::send_to(addr, &cert, Proto::H2, ds_post(signature_key_request())).await
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second.is_finished(),
        "second connection was served beyond the limit"
    );
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("second connection was not served after the first closed")
        .unwrap();
    assert_eq!(answer.ds_response().body, DsResponseBody::Ok);
    server.stop().await;
}
