//! The DS request service: one decoded [`DsRequest`] in, one
//! [`DsResponseBody`] out. It loads a group (from its in-memory cache or from
//! storage), runs the sans-I/O engine of `ds-core`, and stores what the engine
//! decided — new state, log entries, roster changes, Welcomes for local
//! clients' inboxes and fan-outs to other domains — in one storage
//! transaction. Ordering between DS processes comes from the database: a
//! write conditional on the epoch and revision the engine saw either commits
//! or is retried against fresh state.
//!
//! It must not contain protocol rules (those are `ds-core`'s) nor transport
//! concerns (those are `http`'s).

mod cache;
mod directory;
mod endpoint;
mod errors;
mod fanout;
mod groups;
pub mod housekeeping;
mod messages;
pub mod metrics;
mod operator;
mod options;
mod peering;
mod periodic;
mod queue;
pub mod receive;
mod removal;
mod requester;
mod sweeper;
pub mod tokens;

use std::sync::{Arc, OnceLock};

use ds_core::group::EngineContext;
use ds_core::wire::{ClientId, DsError, DsErrorCode, DsRequest, DsRequestBody, DsResponseBody};

use crate::federation::FanoutWake;
use crate::http::rate_limit::KeyedLimit;
use crate::push::Notifier;
use crate::storage::{AppendQueue, Store};

pub use cache::GroupCache;
pub(crate) use errors::read_refusal;
pub use housekeeping::{Housekeeping, HousekeepingOptions};
pub use operator::Status;
pub use options::{RegistrationPolicy, ServiceOptions};
pub use peering::Peering;
pub use periodic::PeriodicHandle;
pub use removal::{OperatorError, Removal};
pub use sweeper::{Sweeper, SweeperHandle};

/// Handles DS requests against one store.
#[derive(Debug, Clone)]
pub struct DsService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ctx: EngineContext,
    store: Store,
    cache: GroupCache,
    options: ServiceOptions,
    /// The DS's signing keys and other domains' keys; without it the DS
    /// issues no Remove proposals and does not federate.
    peering: OnceLock<Peering>,
    /// Push connections of this process, woken after each commit.
    notifier: Notifier,
    /// Requests per authenticated client (`options.client_rate`).
    client_limit: KeyedLimit<ClientId>,
    /// Group commit of application messages, started on first use.
    appends: OnceLock<AppendQueue>,
    /// Signalled after a commit that wrote outbox rows (the fan-out sender waits on it).
    fanout_wake: FanoutWake,
}

impl DsService {
    /// A service for the DS described by `ctx`, storing in `store`, with
    /// default [`ServiceOptions`].
    pub fn new(ctx: EngineContext, store: Store) -> Self {
        Self::with_options(ctx, store, ServiceOptions::default())
    }

    /// A service with explicit options.
    pub fn with_options(ctx: EngineContext, store: Store, options: ServiceOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                ctx,
                store,
                cache: GroupCache::default(),
                client_limit: KeyedLimit::new(options.client_rate),
                options,
                peering: OnceLock::new(),
                notifier: Notifier::new(),
                appends: OnceLock::new(),
                fanout_wake: FanoutWake::new(),
            }),
        }
    }

    /// The live-push listeners of this process; woken only after a write
    /// committed (spec §13, "Live push").
    pub fn notifier(&self) -> &Notifier {
        &self.inner.notifier
    }

    /// What the commit paths signal after writing outbox rows: give it to
    /// the fan-out sender (`SenderOptions::wake`).
    pub fn fanout_wake(&self) -> &FanoutWake {
        &self.inner.fanout_wake
    }

    /// The options this service runs with.
    pub fn options(&self) -> &ServiceOptions {
        &self.inner.options
    }

    /// The storage this service writes to.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Answers one request. `requester` is a client already authenticated
    /// by the caller, if any; a `RegisteredClient` signature in the request
    /// is verified here and takes precedence.
    pub async fn handle(
        &self,
        request: &DsRequest,
        requester: Option<&ClientId>,
    ) -> DsResponseBody {
        match self.dispatch(request, requester).await {
            Ok(body) => body,
            Err(error) => DsResponseBody::Error(error),
        }
    }

    async fn dispatch(
        &self,
        request: &DsRequest,
        requester: Option<&ClientId>,
    ) -> Result<DsResponseBody, DsError> {
        if !request.version.is_supported() {
            return Err(DsError::new(
                DsErrorCode::UnsupportedVersion,
                format!("unsupported protocol version {}", request.version.0),
            ));
        }
        // A RegisteredClient signature is verified before anything else;
        // the client it names is then the requester.
        let registered = match self.registered_requester(request).await? {
            Some(client) => Some(client),
            None => self.vouched_requester(request).await?,
        };
        let requester = registered.as_ref().or(requester);
        // The engine checks the vouchers of new members of other domains
        // against keys it cannot fetch itself: fetch them now.
        self.fetch_voucher_keys(request).await?;
        match &request.body {
            DsRequestBody::RequestGroupId => self.request_group_id().await,
            DsRequestBody::CreateGroup(create) => self.create_group(request, create).await,
            DsRequestBody::SignaturePublicKey => Ok(self.signature_public_key()),
            DsRequestBody::KeyPackages(r) => self.key_packages(r).await,
            DsRequestBody::ConnectionKeyPackages(r) => self.connection_key_packages(r).await,
            DsRequestBody::UserKeyPackages(r) => self.user_key_packages(r).await,
            _ => self.group_operation(request, requester).await,
        }
    }
}
