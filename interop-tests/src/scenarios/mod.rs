//! The scenarios, one file per family.

mod connection;
mod cs;
mod fed;
mod order;
mod resilience;
mod sec_federation;
mod sec_peer;
mod sec_server;

use crate::scenario::Scenario;

/// Every scenario: client to server, federation, hostile input.
pub fn all() -> Vec<Scenario> {
    [
        cs::all(),
        connection::all(),
        order::all(),
        fed::all(),
        resilience::all(),
        sec_server::all(),
        sec_federation::all(),
        sec_peer::all(),
    ]
    .concat()
}
