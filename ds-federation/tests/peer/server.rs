//! A real DS-like peer on 127.0.0.1: TLS (tokio-rustls) and HTTP/2 (hyper),
//! answering `signature_public_key` on `/mimi/v1/ds` from a real keyring
//! and verifying `/mimi/v1/fanout` requests with ds-core against the
//! sender's keys fetched by a real `PeerKeys`. It counts TLS connections
//! and key requests, and can drop every connection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ds_core::federation::verify_fanout_signature;
use ds_core::wire::{
    DsFanoutRequest, DsFanoutResponse, DsFanoutResponseBody, DsRequest, DsRequestBody, DsResponse,
    DsResponseBody, List, SignaturePublicKeys,
};
use ds_federation::{DsKeyring, PeerKeys};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub const GRACE: u64 = 7 * 86_400;

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// What the peer knows and counts.
pub struct State {
    pub keyring: DsKeyring,
    /// Keys of fan-out senders, when this peer accepts fan-outs.
    pub sender_keys: Option<PeerKeys>,
    pub key_requests: AtomicUsize,
    pub connections: AtomicUsize,
}

pub struct Peer {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    stop: watch::Sender<bool>,
    accepting: Option<JoinHandle<()>>,
}

impl Peer {
    /// Serves on a fresh loopback port.
    pub async fn start(tls: Arc<ServerConfig>, state: State) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, tls, Arc::new(state))
    }

    /// Serves on `addr` again (after [`Peer::stop`]) with the same state.
    pub async fn restart(addr: SocketAddr, tls: Arc<ServerConfig>, state: Arc<State>) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).unwrap();
        Self::serve(socket.listen(64).unwrap(), tls, state)
    }

    fn serve(listener: TcpListener, tls: Arc<ServerConfig>, state: Arc<State>) -> Self {
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let acceptor = TlsAcceptor::from(tls);
        let peer_state = Arc::clone(&state);
        let mut accept_stop = stopped.clone();
        let accepting = tokio::spawn(async move {
            loop {
                let tcp = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, _)) => tcp,
                        Err(_) => continue,
                    },
                    _ = accept_stop.changed() => return,
                };
                state.connections.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let state = Arc::clone(&state);
                let mut conn_stop = stopped.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |request| {
                        let state = Arc::clone(&state);
                        async move { Ok::<_, Infallible>(handle(&state, request).await) }
                    });
                    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service);
                    tokio::select! {
                        _ = connection => {}
                        _ = conn_stop.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            state: peer_state,
            stop,
            accepting: Some(accepting),
        }
    }

    /// Stops accepting (the port is free when this returns) and drops every
    /// open connection.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.await;
        }
    }

    pub fn key_requests(&self) -> usize {
        self.state.key_requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn handle(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Ok(body) = request.into_body().collect().await else {
        return status(StatusCode::BAD_REQUEST);
    };
    let body = body.to_bytes();
    match path.as_str() {
        "/mimi/v1/ds" => {
            let Ok(request) = DsRequest::decode(&body) else {
                return status(StatusCode::BAD_REQUEST);
            };
            if !matches!(request.body, DsRequestBody::SignaturePublicKey) {
                return status(StatusCode::NOT_IMPLEMENTED);
            }
            state.key_requests.fetch_add(1, Ordering::SeqCst);
            let keys = state.keyring.published(unix_now(), GRACE);
            let keys = SignaturePublicKeys {
                keys: List::new(keys).unwrap(),
            };
            ok(DsResponse::new(DsResponseBody::SignaturePublicKey(keys))
                .encode()
                .unwrap())
        }
        "/mimi/v1/fanout" => {
            let Some(sender_keys) = &state.sender_keys else {
                return status(StatusCode::NOT_FOUND);
            };
            let Ok(request) = DsFanoutRequest::decode(&body) else {
                return status(StatusCode::BAD_REQUEST);
            };
            let now = unix_now();
            let verdict = match sender_keys
                .keys_with(&request.sender, request.key_id.as_slice(), now)
                .await
            {
                Ok(keys) => verify_fanout_signature(&request, &keys, now),
                Err(error) => Err(error),
            };
            let body = match verdict {
                Ok(()) => DsFanoutResponseBody::Ok,
                Err(error) => DsFanoutResponseBody::Error(error),
            };
            ok(DsFanoutResponse::new(body).encode().unwrap())
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

fn ok(body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder()
        .header(http::header::CONTENT_TYPE, "application/mimi-ds")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::from_static(b"refused by the test peer\n")))
        .unwrap()
}
