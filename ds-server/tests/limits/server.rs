//! The DS these tests run against: the admin tests' running `App` (public
//! and admin listeners, operator side, so housekeeping and the gauge sampler
//! run) with the transport limits under test.

use std::time::Duration;

use ds_server::http::Limits;
use ds_server::service::ServiceOptions;
use ds_server::storage::Store;
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::types::SignatureScheme;

#[path = "../admin/server.rs"]
#[allow(dead_code)]
mod running;

pub use running::Server;

/// Serves `store` with `options` and `limits` (the inactivity sweeper idle).
pub async fn start_server(store: Store, options: ServiceOptions, limits: Limits) -> Server {
    Server::start_with_limits(store, options, Duration::from_secs(3600), limits).await
}

/// A fresh Ed25519 key pair for a client.
pub fn client_key() -> SignatureKeyPair {
    SignatureKeyPair::new(SignatureScheme::ED25519).unwrap()
}
