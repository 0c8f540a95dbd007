//! Who is in the group: leaf index ⇄ client id, and clients by user.
//!
//! Derived from the ratchet tree's credentials whenever the tree changes, so
//! it is never stored and can never disagree with the tree.

use std::collections::{BTreeMap, HashMap};

use openmls::group::PublicGroup;
use openmls::prelude::{BasicCredential, Credential, LeafNodeIndex};

use crate::wire::{ClientId, DsError, DsErrorCode, UserId};

/// The members of one epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    by_leaf: BTreeMap<u32, ClientId>,
    by_client: HashMap<ClientId, u32>,
    by_user: HashMap<UserId, Vec<ClientId>>,
}

/// The client id a leaf credential names, or `InvalidCredential`.
pub fn client_of(credential: &Credential) -> Result<ClientId, DsError> {
    let basic = BasicCredential::try_from(credential.clone()).map_err(|_| {
        DsError::new(
            DsErrorCode::InvalidCredential,
            "credential is not a basic credential",
        )
    })?;
    let text = std::str::from_utf8(basic.identity()).map_err(|_| {
        DsError::new(
            DsErrorCode::InvalidCredential,
            "credential identity is not UTF-8",
        )
    })?;
    ClientId::new(text).map_err(|e| DsError::new(DsErrorCode::InvalidCredential, e.to_string()))
}

impl Roster {
    /// Reads the roster off the group's tree.
    pub fn of(group: &PublicGroup) -> Result<Self, DsError> {
        let mut roster = Self::default();
        for member in group.members() {
            let client = client_of(&member.credential)?;
            roster.insert(member.index.u32(), client)?;
        }
        Ok(roster)
    }

    fn insert(&mut self, leaf: u32, client: ClientId) -> Result<(), DsError> {
        if self.by_client.insert(client.clone(), leaf).is_some() {
            return Err(DsError::new(
                DsErrorCode::DuplicateClient,
                format!("{client} would hold two leaves"),
            ));
        }
        self.by_user
            .entry(client.user().clone())
            .or_default()
            .push(client.clone());
        self.by_leaf.insert(leaf, client);
        Ok(())
    }

    /// The client at `leaf`.
    pub fn client_at(&self, leaf: LeafNodeIndex) -> Option<&ClientId> {
        self.by_leaf.get(&leaf.u32())
    }

    /// The leaf of `client`.
    pub fn leaf_of(&self, client: &ClientId) -> Option<LeafNodeIndex> {
        self.by_client.get(client).map(|l| LeafNodeIndex::new(*l))
    }

    /// Whether `client` is a member.
    pub fn contains(&self, client: &ClientId) -> bool {
        self.by_client.contains_key(client)
    }

    /// The member clients of `user` (empty if the user is not a member).
    pub fn clients_of(&self, user: &UserId) -> &[ClientId] {
        self.by_user.get(user).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Whether any client of `user` is a member.
    pub fn has_user(&self, user: &UserId) -> bool {
        self.by_user.contains_key(user)
    }

    /// All members, by leaf index.
    pub fn clients(&self) -> impl Iterator<Item = &ClientId> {
        self.by_leaf.values()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.by_leaf.len()
    }

    /// Whether the group has no members.
    pub fn is_empty(&self) -> bool {
        self.by_leaf.is_empty()
    }

    /// Clients in `self` but not in `before`, and in `before` but not in `self`.
    pub fn diff(&self, before: &Roster) -> (Vec<ClientId>, Vec<ClientId>) {
        let added = self
            .by_leaf
            .values()
            .filter(|c| !before.contains(c))
            .cloned()
            .collect();
        let removed = before
            .by_leaf
            .values()
            .filter(|c| !self.contains(c))
            .cloned()
            .collect();
        (added, removed)
    }
}
