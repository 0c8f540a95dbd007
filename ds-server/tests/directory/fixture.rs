//! One DS for a scenario: the real service on a TLS + HTTP/2 server, over a
//! fresh SQLite or PostgreSQL database.

use ds_core::group::EngineContext;
use ds_core::wire::Domain;
use ds_server::http::Limits;
use ds_server::service::DsService;

use crate::common::{self, Client, Ds};
use crate::queue;
use crate::support::TestDb;
use crate::transport::TestServer;

pub const ALICE: &str = "alice@ds-a.example/laptop";
pub const BOB_PHONE: &str = "bob@ds-a.example/phone";
pub const BOB_LAPTOP: &str = "bob@ds-a.example/laptop";
pub const BOB_TABLET: &str = "bob@ds-a.example/tablet";
pub const BOB: &str = "bob@ds-a.example";

/// The DS under test.
pub struct Fixture {
    pub db: TestDb,
    pub ds: Ds,
    pub server: TestServer,
}

impl Fixture {
    pub async fn start(db: TestDb) -> Self {
        let ds = Ds::new();
        let ctx = EngineContext::new(
            Domain::new(common::DOMAIN).unwrap(),
            ds.ctx.ds_signature_key().as_slice().to_vec(),
        );
        let service = DsService::new(ctx, db.store.clone());
        let server = TestServer::start(service, Limits::default()).await;
        Self { db, ds, server }
    }

    /// A new client, registered over the network.
    pub async fn client(&self, id: &str) -> Client {
        let client = Client::new(id);
        queue::register(&self.server, &client).await;
        client
    }

    /// Rows of the key-package table, read behind the service's back.
    pub async fn stored(&self) -> i64 {
        self.db.rows("key_packages").await
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}
