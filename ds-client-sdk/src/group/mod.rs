//! Group operations, each sent to the group's owning DS (the domain of the
//! group id, spec §11.7): creating a group ([`create`]), commits that change
//! it with retries after lost races ([`commit`]), the membership and
//! messaging operations built on them ([`ops`]), the commits of removals
//! other members proposed or the DS made ([`pending`]), rejoining by
//! external commit ([`rejoin`]) and what the client knows
//! of its groups ([`roster`]).

pub mod commit;
pub mod create;
pub mod ops;
pub mod pending;
pub mod rejoin;
pub mod roster;

use ds_core::wire::{Domain, GroupId};

use crate::error::{Error, Result};

/// The owning DS of `gid`: the domain its id names.
pub fn owner(gid: &GroupId) -> Result<Domain> {
    Domain::new(gid.domain()).map_err(|e| Error::mls("group id", e))
}
