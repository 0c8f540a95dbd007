//! The federation conformance suite: black-box scenarios against two
//! running DS domains, over the network only, in the wire format of
//! `spec/protocol.md`.
//!
//! Each [`Scenario`] has a stable id (`CS-…` client to server, `FED-…`
//! federation, `SEC-…` hostile input) and a one-line statement of what it
//! checks. [`run`] runs them against a [`Target`]: two deployments (domain
//! and address), the CA their certificates chain to, and an [`Operator`]
//! for the scenarios that need to cut a domain off the network or restart
//! it. The binary `mimi-conformance` runs them against any deployment;
//! `cargo test -p interop-tests` starts two domains itself and runs them
//! all.
//!
//! The suite's clients are `ds-client-sdk` clients (the hostile scenarios
//! use its `conformance` feature to build requests without sending them)
//! and raw HTTPS requests; every user a run creates has the run's own
//! prefix, so runs against one deployment never meet.

mod ctx;
mod events;
mod forge;
mod operator;
mod peek;
mod raw;
mod report;
mod run;
mod scenario;
mod scenarios;
mod target;

pub use ctx::Ctx;
pub use operator::{Action, Commands, NoOperator, OpFuture, Operator};
pub use report::{Report, ScenarioResult, Verdict};
pub use run::wait_until_serving;
pub use run::{RunOptions, run};
pub use scenario::{Failure, Need, Outcome, Scenario, all};
pub use target::{Deployment, PeerSigner, Target, parse_ds_url};
