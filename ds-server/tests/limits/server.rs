//! A running `App` with its operator side (so housekeeping and the gauge
//! sampler run), a real `DsService` and a fresh development certificate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ds_core::group::EngineContext;
use ds_core::wire::Domain;
use ds_federation::identity::DsIdentity;
use ds_server::app::{App, Operator};
use ds_server::http::{Limits, Readiness};
use ds_server::service::{DsService, ServiceOptions};
use ds_server::storage::Store;
use ds_server::tls;
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::types::SignatureScheme;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::transport::metrics_handle;

/// The domain of the test DS.
pub const DOMAIN: &str = "ds-a.example";

pub struct Server {
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub cert: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serves `store` with `options` and `limits`.
    pub async fn start(store: Store, options: ServiceOptions, limits: Limits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let identity = DsIdentity::load_or_create(&dir.path().join("ds-signing-key")).unwrap();
        let ctx = EngineContext::new(Domain::new(DOMAIN).unwrap(), identity.public_key().to_vec());
        let service = DsService::with_options(ctx, store, options);
        let dev = tls::ensure_dev_cert(dir.path(), "localhost").unwrap();
        let public = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (public_addr, admin_addr) = (public.local_addr().unwrap(), admin.local_addr().unwrap());
        let app = App {
            tls: tls::server_config(&dev.cert, &dev.key).unwrap(),
            endpoint: Arc::new(service.clone()),
            limits,
            metrics: Some(metrics_handle()),
            readiness: Readiness::new(),
            operator: Some(Operator {
                service,
                token_ttl: Duration::from_secs(3600),
                sweep_interval: Duration::from_secs(3600),
            }),
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run(public, admin, async move {
            let _ = stopped.await;
        }));
        Self {
            public: public_addr,
            admin: admin_addr,
            cert: dev.cert,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// Shuts down (background tasks included) and waits until stopped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), &mut self.task)
            .await
            .expect("server did not stop")
            .unwrap();
    }
}

/// A fresh Ed25519 key pair for a client.
pub fn client_key() -> SignatureKeyPair {
    SignatureKeyPair::new(SignatureScheme::ED25519).unwrap()
}
