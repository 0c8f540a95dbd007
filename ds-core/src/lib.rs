//! Sans-I/O core of the MIMI delivery service.
//!
//! It owns the protocol: [`wire`] defines every message as Rust types with
//! strict TLS-presentation-language codecs, and [`group`] is the owning DS's
//! view of one group, a pure function from (stored state, decoded request,
//! time) to (new state, response, fan-out effects). [`federation`] checks
//! what other domains' DSs sign (fan-outs, client vouchers) against keys the
//! caller supplies; [`queue`] authenticates signed client requests.
//!
//! It must not do I/O: no sockets, no files, no clocks, no async runtime, no
//! SQL. Callers (ds-server, ds-federation, ds-client-sdk) supply bytes and
//! time and act on the effects returned.

pub mod federation;
pub mod group;
pub mod queue;
pub mod wire;
