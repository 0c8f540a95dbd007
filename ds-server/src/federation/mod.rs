//! The owning side of federation (spec §11): delivering the outbox — the
//! fan-outs a commit or message wrote for other domains in its own
//! transaction — to each destination DS as signed `DSFanoutRequest`s, in
//! outbox order, deleting rows only once acknowledged.
//!
//! It must not decide what is fanned out (that is `service::fanout`, from
//! the engine's effects) nor verify anything (the guest DS does); signing
//! and the HTTPS client are `ds-federation`'s.

mod backoff;
mod batch;
mod destination;
pub mod metrics;
mod refusal;
mod sender;
mod wake;

pub use sender::{FanoutSender, FanoutSenderHandle, SenderOptions};
pub use wake::FanoutWake;
