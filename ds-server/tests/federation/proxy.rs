//! A TCP forwarder between DSs, owned by the test: it listens before any
//! DS starts (so configurations can name it), forwards to whatever process
//! currently serves the domain (restarts get new ports), and can hold or
//! delay the traffic towards it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A forwarder on a loopback port of its own.
#[derive(Clone)]
pub struct Proxy {
    /// Where DSs connect (a `[[federation.peers]]` address).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    target: Mutex<Option<SocketAddr>>,
    delay: Mutex<Duration>,
    /// `false`: bytes are read but not forwarded until it is `true` again.
    open: watch::Sender<bool>,
    /// Bytes forwarded towards the target so far.
    forwarded: AtomicU64,
}

impl Proxy {
    /// Starts listening; forwards nowhere (connections are dropped) until
    /// [`Proxy::point_to`].
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (open, _) = watch::channel(true);
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            shared: Arc::new(Shared {
                target: Mutex::new(None),
                delay: Mutex::new(Duration::ZERO),
                open,
                forwarded: AtomicU64::new(0),
            }),
        };
        let shared = Arc::clone(&proxy.shared);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                tokio::spawn(forward(inbound, Arc::clone(&shared)));
            }
        });
        proxy
    }

    /// New connections go to `target` (`None`: dropped).
    pub fn point_to(&self, target: Option<SocketAddr>) {
        *self.shared.target.lock().unwrap() = target;
    }

    /// Each chunk, in both directions, waits `delay` before it is passed on.
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Holds (`false`) or passes (`true`) the traffic, both directions.
    pub fn set_open(&self, open: bool) {
        self.shared.open.send_replace(open);
    }

    /// Bytes forwarded towards the target so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }
}

async fn forward(inbound: TcpStream, shared: Arc<Shared>) {
    let Some(target) = *shared.target.lock().unwrap() else {
        return;
    };
    let Ok(outbound) = TcpStream::connect(target).await else {
        return;
    };
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    let towards = pump(in_read, out_write, Arc::clone(&shared), true);
    let back = pump(out_read, in_write, shared, false);
    tokio::join!(towards, back);
}

/// Copies chunk by chunk, honouring the gate and the delay.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, shared: Arc<Shared>, count: bool) {
    let mut gate = shared.open.subscribe();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if gate.wait_for(|open| *open).await.is_err() {
            break;
        }
        let delay = *shared.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        if count {
            shared.forwarded.fetch_add(n as u64, Ordering::SeqCst);
        }
    }
    let _ = to.shutdown().await;
}
