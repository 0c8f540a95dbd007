//! A running DS with its operator side: public TLS listener, admin listener
//! with the operator commands, the DS's own signing key, and (when the
//! options ask for it) the inactivity sweeper.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ds_core::group::EngineContext;
use ds_core::wire::{Domain, DsRequest, DsResponseBody, ProtocolVersion};
use ds_federation::DsKeyring;
use ds_server::app::{App, Operator};
use ds_server::config::FederationConfig;
use ds_server::http::probe::{self, AdminAnswer};
use ds_server::http::{Limits, Readiness};
use ds_server::service::Peering;
use ds_server::service::{DsService, ServiceOptions};
use ds_server::storage::Store;
use ds_server::tls;
use http::Method;
use openmls::prelude::{Extension, Extensions, GroupContext};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common;
use crate::transport::{Proto, ds_post, metrics_handle, send_to};

/// Registration tokens issued by this server live this long.
pub const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

pub struct Server {
    pub public: SocketAddr,
    pub admin: SocketAddr,
    pub cert: PathBuf,
    pub service: DsService,
    /// The engine context the service runs with (a twin: same domain and key).
    pub ctx: EngineContext,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serves `store` with `options`; the sweeper looks every `sweep_interval`.
    pub async fn start(store: Store, options: ServiceOptions, sweep_interval: Duration) -> Self {
        Self::start_with_limits(store, options, sweep_interval, Limits::default()).await
    }

    /// Like [`Server::start`], with transport `limits`.
    pub async fn start_with_limits(
        store: Store,
        options: ServiceOptions,
        sweep_interval: Duration,
        limits: Limits,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keyring = DsKeyring::load_or_create(&dir.path().join("ds-keys"), None, 0).unwrap();
        let key = keyring.current().public_key().to_vec();
        let domain = Domain::new(common::DOMAIN).unwrap();
        let ctx = || EngineContext::new(domain.clone(), key.clone());
        let peering = Peering::new(domain.clone(), keyring, &FederationConfig::default()).unwrap();
        let service = DsService::with_options(ctx(), store, options)
            .with_peering(peering)
            .unwrap();
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
                service: service.clone(),
                token_ttl: TOKEN_TTL,
                sweep_interval,
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
            service,
            ctx: ctx(),
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// Default options, no sweeper.
    pub async fn plain(store: Store) -> Self {
        Self::start(store, ServiceOptions::default(), Duration::from_secs(60)).await
    }

    /// The group context extensions that make this DS the external sender.
    pub fn group_extensions(&self) -> Extensions<GroupContext> {
        Extensions::single(Extension::ExternalSenders(vec![
            self.ctx.ds_external_sender(),
        ]))
        .unwrap()
    }

    /// Posts a `DSRequest` over TLS + HTTP/2 and returns the response body.
    pub async fn post(&self, request: &DsRequest) -> DsResponseBody {
        let answer = send_to(
            self.public,
            &self.cert,
            Proto::H2,
            ds_post(request.encode().unwrap()),
        )
        .await;
        let response = answer.ds_response();
        assert_eq!(response.version, ProtocolVersion::V1);
        response.body
    }

    /// [`Server::post`] that must be accepted.
    pub async fn ok(&self, request: &DsRequest) -> DsResponseBody {
        match self.post(request).await {
            DsResponseBody::Error(e) => panic!("refused over the network: {e}"),
            body => body,
        }
    }

    /// [`Server::post`] from the synchronous join callback of the harness.
    pub fn post_blocking(&self, request: &DsRequest) -> DsResponseBody {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(self.post(request))
        })
    }

    /// `method path` on the admin listener, through the client `mimi-ds admin` uses.
    pub async fn admin(&self, method: Method, path: &str) -> AdminAnswer {
        probe::request(
            &format!("http://{}", self.admin),
            method,
            path,
            Duration::from_secs(30),
        )
        .await
        .unwrap()
    }

    /// Shuts down (sweeper included) and waits until the server has stopped.
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
