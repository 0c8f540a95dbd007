//! What the application learns from the DS: one ordered stream of events,
//! and how each is kept on disk until the application takes it.

use ds_core::wire::{ClientId, GroupId};
use serde::{Deserialize, Serialize};

/// One thing that happened, in the order the owning DSs logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// This client joined a group from a Welcome (it was invited).
    Joined {
        /// The group.
        group: GroupId,
        /// Its name, as its creator set it.
        name: String,
    },
    /// An application message of another member.
    Message {
        /// The group.
        group: GroupId,
        /// The member that sent it (from its MLS credential).
        sender: ClientId,
        /// The plaintext.
        body: Vec<u8>,
    },
    /// Another member's commit added these clients.
    MembersAdded {
        /// The group.
        group: GroupId,
        /// The new members.
        members: Vec<ClientId>,
    },
    /// Another member's commit removed these clients (not this one), or
    /// this client's own commit of their leave or of the DS's removal.
    MembersRemoved {
        /// The group.
        group: GroupId,
        /// The removed members.
        members: Vec<ClientId>,
    },
    /// This client is no longer a member (removed, or its leave committed).
    Removed {
        /// The group.
        group: GroupId,
    },
}

impl Event {
    /// The group the event is about.
    pub fn group(&self) -> &GroupId {
        match self {
            Self::Joined { group, .. }
            | Self::Message { group, .. }
            | Self::MembersAdded { group, .. }
            | Self::MembersRemoved { group, .. }
            | Self::Removed { group } => group,
        }
    }
}

/// Which queue entry an event came from, so that acknowledging can wait
/// until the application took every event of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// An inbox entry (a Welcome) with this inbox sequence number.
    Inbox(u64),
    /// A group-log entry with this sequence number (the group is the
    /// event's).
    Group(u64),
}

/// An event waiting for the application, as stored in the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// Where it came from.
    pub origin: Origin,
    /// The event, in stored form.
    pub event: StoredEvent,
}

/// [`Event`] with plain strings, for the state file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum StoredEvent {
    /// [`Event::Joined`].
    Joined { group: String, name: String },
    /// [`Event::Message`].
    Message {
        group: String,
        sender: String,
        body: Vec<u8>,
    },
    /// [`Event::MembersAdded`].
    MembersAdded { group: String, members: Vec<String> },
    /// [`Event::MembersRemoved`].
    MembersRemoved { group: String, members: Vec<String> },
    /// [`Event::Removed`].
    Removed { group: String },
}

impl From<&Event> for StoredEvent {
    fn from(event: &Event) -> Self {
        let ids = |members: &[ClientId]| members.iter().map(|m| m.as_str().to_owned()).collect();
        match event {
            Event::Joined { group, name } => Self::Joined {
                group: group.as_str().to_owned(),
                name: name.clone(),
            },
            Event::Message {
                group,
                sender,
                body,
            } => Self::Message {
                group: group.as_str().to_owned(),
                sender: sender.as_str().to_owned(),
                body: body.clone(),
            },
            Event::MembersAdded { group, members } => Self::MembersAdded {
                group: group.as_str().to_owned(),
                members: ids(members),
            },
            Event::MembersRemoved { group, members } => Self::MembersRemoved {
                group: group.as_str().to_owned(),
                members: ids(members),
            },
            Event::Removed { group } => Self::Removed {
                group: group.as_str().to_owned(),
            },
        }
    }
}

impl StoredEvent {
    /// Back to an [`Event`]; `None` if the file held a malformed id (it was
    /// written by this code from valid ids, so only a damaged file does).
    pub fn to_event(&self) -> Option<Event> {
        let gid = |g: &str| GroupId::new(g).ok();
        let ids = |members: &[String]| {
            members
                .iter()
                .map(|m| ClientId::new(m).ok())
                .collect::<Option<Vec<_>>>()
        };
        Some(match self {
            Self::Joined { group, name } => Event::Joined {
                group: gid(group)?,
                name: name.clone(),
            },
            Self::Message {
                group,
                sender,
                body,
            } => Event::Message {
                group: gid(group)?,
                sender: ClientId::new(sender).ok()?,
                body: body.clone(),
            },
            Self::MembersAdded { group, members } => Event::MembersAdded {
                group: gid(group)?,
                members: ids(members)?,
            },
            Self::MembersRemoved { group, members } => Event::MembersRemoved {
                group: gid(group)?,
                members: ids(members)?,
            },
            Self::Removed { group } => Event::Removed { group: gid(group)? },
        })
    }

    /// The group, as stored.
    pub fn group(&self) -> &str {
        match self {
            Self::Joined { group, .. }
            | Self::Message { group, .. }
            | Self::MembersAdded { group, .. }
            | Self::MembersRemoved { group, .. }
            | Self::Removed { group } => group,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_survive_their_stored_form() {
        let group = GroupId::new("g1@ds-a.example").unwrap();
        let sender = ClientId::new("bob@ds-b.example/phone").unwrap();
        let events = [
            Event::Joined {
                group: group.clone(),
                name: "team".into(),
            },
            Event::Message {
                group: group.clone(),
                sender: sender.clone(),
                body: b"hi".to_vec(),
            },
            Event::MembersAdded {
                group: group.clone(),
                members: vec![sender.clone()],
            },
            Event::MembersRemoved {
                group: group.clone(),
                members: vec![sender],
            },
            Event::Removed { group },
        ];
        for event in events {
            assert_eq!(StoredEvent::from(&event).to_event(), Some(event));
        }
    }
}
