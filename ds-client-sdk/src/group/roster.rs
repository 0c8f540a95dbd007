//! What the client knows of its groups, from its own MLS state.

use ds_core::wire::{ClientId, GroupId};

use crate::error::{Error, Result};
use crate::inner::{Inner, client_of};

/// A group this client is a member of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// Its id (names the owning DS).
    pub id: GroupId,
    /// Its name.
    pub name: String,
}

impl Inner {
    /// The groups this client is a member of, by id.
    pub fn groups(&self) -> Result<Vec<GroupSummary>> {
        self.groups
            .iter()
            .filter(|(gid, record)| record.member && self.mls.contains_key(gid.as_str()))
            .map(|(gid, record)| {
                Ok(GroupSummary {
                    id: GroupId::new(gid).map_err(|e| Error::mls("stored group id", e))?,
                    name: record.name.clone(),
                })
            })
            .collect()
    }

    /// The clients in `gid`, in leaf order (this client included).
    pub fn members(&self, gid: &GroupId) -> Result<Vec<ClientId>> {
        Ok(self
            .group(gid)?
            .members()
            .filter_map(|m| client_of(&m.credential))
            .collect())
    }
}
