//! What the caller must do after a request was accepted.

use crate::wire::{ClientId, DsResponseBody};

/// One consequence of an accepted request, in the order the caller applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Append `message` to the group log. It is for every client that is a
    /// member at this point of the effect list (for a commit: the members of
    /// the epoch it ends, including those it removes).
    GroupMessage {
        /// The MLSMessage bytes, as sent.
        message: Vec<u8>,
        /// The member that sent it; `None` for DS-issued proposals.
        sender: Option<ClientId>,
    },
    /// The roster changed: from here on `added` see the group log and
    /// `removed` no longer do.
    RosterChange {
        /// Clients that joined by this commit.
        added: Vec<ClientId>,
        /// Clients that left by this commit.
        removed: Vec<ClientId>,
    },
    /// Put a Welcome into the personal inbox of each recipient.
    Welcome {
        /// The MLSMessage bytes of the Welcome.
        message: Vec<u8>,
        /// The new clients it is for.
        recipients: Vec<ClientId>,
    },
    /// The group is gone; the caller deletes its state and log after delivery.
    GroupDeleted,
}

/// The result of an accepted request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What to answer the client.
    pub response: DsResponseBody,
    /// What to deliver, in order.
    pub effects: Vec<Effect>,
    /// Whether the group state changed and must be saved.
    pub state_changed: bool,
}

impl Outcome {
    pub(crate) fn read_only(response: DsResponseBody) -> Self {
        Self {
            response,
            effects: Vec::new(),
            state_changed: false,
        }
    }
}
