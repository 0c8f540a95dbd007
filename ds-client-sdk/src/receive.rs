//! Turning queue pages into events: inbox Welcomes are joined, group-log
//! entries are applied to the MLS state in sequence order. An entry already
//! processed (same group and sequence, or inbox sequence) is skipped, so a
//! page that repeats what live push delivered, or the reverse, changes
//! nothing. The client's own messages come back in the log too and are
//! recognised by their hash.

use ds_core::wire::{GroupId, QueuePage};
use openmls::prelude::{MlsMessageIn, ProcessedMessageContent, ProtocolMessage, Sender};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::DeserializeBytes as _;

use crate::error::{Error, Result};
use crate::event::{Event, Origin, Pending, StoredEvent};
use crate::inner::{Inner, client_of, digest};
use crate::welcome::JoinFailure;

/// What processing a page did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Events queued for the application.
    pub events: usize,
    /// Welcomes joined (each used up a key package).
    pub joined: usize,
}

impl Inner {
    /// Applies every new entry of `page`, in order, and saves. Stops at an
    /// inbox entry that cannot be joined yet (the error), leaving it and
    /// everything after for the next sync.
    pub async fn apply_page(&mut self, page: &QueuePage) -> Result<Applied> {
        let mut applied = Applied::default();
        let result = self.apply_entries(page, &mut applied).await;
        self.save()?;
        result.map(|()| applied)
    }

    async fn apply_entries(&mut self, page: &QueuePage, applied: &mut Applied) -> Result<()> {
        for entry in page.inbox.as_slice() {
            if entry.sequence <= self.inbox {
                continue;
            }
            match self.join_from_welcome(entry.message.as_slice()).await {
                Ok(event) => {
                    self.queue_event(Origin::Inbox(entry.sequence), &event);
                    applied.events += 1;
                    applied.joined += 1;
                }
                Err(JoinFailure::Later(e)) => return Err(e),
                Err(JoinFailure::Never(e)) => {
                    tracing::warn!(inbox = entry.sequence, error = %e, "Welcome skipped");
                }
            }
            self.inbox = entry.sequence;
        }
        for entry in page.group_entries.as_slice() {
            let record = self
                .groups
                .entry(entry.group_id.as_str().to_owned())
                .or_default();
            if entry.sequence <= record.last_seq {
                continue;
            }
            if record.last_seq > 0 && entry.sequence > record.last_seq + 1 {
                tracing::warn!(
                    group = %entry.group_id,
                    from = record.last_seq + 1,
                    to = entry.sequence - 1,
                    "entries dropped by retention before this client read them"
                );
            }
            record.last_seq = entry.sequence;
            for event in self.apply_entry(&entry.group_id, entry.message.as_slice()) {
                self.queue_event(Origin::Group(entry.sequence), &event);
                applied.events += 1;
            }
        }
        Ok(())
    }

    pub fn queue_event(&mut self, origin: Origin, event: &Event) {
        self.pending.push_back(Pending {
            origin,
            event: StoredEvent::from(event),
        });
    }

    /// One group-log entry: the events it gives the application.
    fn apply_entry(&mut self, gid: &GroupId, message: &[u8]) -> Vec<Event> {
        let key = gid.as_str();
        let hash = digest(message);
        let own = self
            .groups
            .get_mut(key)
            .and_then(|record| {
                let at = record.sent.iter().position(|h| *h == hash)?;
                record.sent.remove(at);
                Some(())
            })
            .is_some();
        let Some(group) = self.mls.get_mut(key) else {
            return Vec::new();
        };
        if own {
            // A commit whose answer was lost is merged when the log shows
            // it was accepted.
            if group.pending_commit().is_some()
                && let Err(e) = group.merge_pending_commit(&self.provider)
            {
                tracing::error!(group = %gid, error = %e, "own commit could not be merged");
            }
            return Vec::new();
        }
        if group.pending_commit().is_some() {
            // Another commit won this epoch: ours was not accepted.
            if let Err(e) =
                group.clear_pending_commit(openmls_traits::OpenMlsProvider::storage(&self.provider))
            {
                tracing::error!(group = %gid, error = %e, "stale own commit not cleared");
            }
        }
        match self.process(gid, message) {
            Ok(events) => events,
            Err(e) => {
                tracing::error!(group = %gid, error = %e, "a group entry could not be processed");
                Vec::new()
            }
        }
    }

    fn process(&mut self, gid: &GroupId, message: &[u8]) -> Result<Vec<Event>> {
        let key = gid.as_str();
        let group = self
            .mls
            .get_mut(key)
            .ok_or_else(|| Error::NotAMember(gid.clone()))?;
        let message = MlsMessageIn::tls_deserialize_exact_bytes(message)
            .map_err(|e| Error::mls("a group entry does not decode", e))?;
        let protocol: ProtocolMessage = message
            .try_into_protocol_message()
            .map_err(|e| Error::mls("a group entry", e))?;
        let earlier = protocol.epoch() < group.epoch();
        if earlier && !matches!(protocol, ProtocolMessage::PrivateMessage(_)) {
            // A handshake message of an epoch this client left behind: a
            // proposal that epoch's commit dropped, or an entry logged before
            // this client's external commit (a rejoin).
            tracing::debug!(group = %gid, epoch = protocol.epoch().as_u64(), "handshake entry of an earlier epoch skipped");
            return Ok(Vec::new());
        }
        let processed = match group.process_message(&self.provider, protocol) {
            Ok(processed) => processed,
            // An application message of an earlier epoch is readable with
            // that epoch's kept keys (sent just before this client's own
            // commit was accepted); before a rejoin there are none.
            Err(e) if earlier => {
                tracing::debug!(group = %gid, error = %e, "message of an earlier epoch without keys skipped");
                return Ok(Vec::new());
            }
            Err(e) => return Err(Error::mls("processing", e)),
        };
        let sender = client_of(processed.credential());
        let external_joiner = matches!(processed.sender(), Sender::NewMemberCommit)
            .then(|| sender.clone())
            .flatten();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(m) => {
                let Some(sender) = sender else {
                    return Err(Error::mls(
                        "message",
                        "the sender's credential names no client",
                    ));
                };
                Ok(vec![Event::Message {
                    group: gid.clone(),
                    sender,
                    body: m.into_bytes(),
                }])
            }
            ProcessedMessageContent::ProposalMessage(proposal) => {
                group
                    .store_pending_proposal(
                        openmls_traits::OpenMlsProvider::storage(&self.provider),
                        *proposal,
                    )
                    .map_err(|e| Error::mls("storing a proposal", e))?;
                // A leave or the DS's removal: committed soon by a member.
                self.schedule_pending_commit(gid);
                Ok(Vec::new())
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let mut added: Vec<_> = staged
                    .add_proposals()
                    .filter_map(|p| {
                        client_of(p.add_proposal().key_package().leaf_node().credential())
                    })
                    .chain(external_joiner)
                    .collect();
                let own_index = group.own_leaf_index();
                let mut removed: Vec<_> = staged
                    .remove_proposals()
                    .map(|p| p.remove_proposal().removed())
                    .filter(|index| *index != own_index)
                    .filter_map(|index| group.member(index).and_then(client_of))
                    .collect();
                // A client that rejoined by external commit, replacing its
                // own old leaf, was neither added nor removed.
                let resynced: Vec<_> = added
                    .iter()
                    .filter(|c| removed.contains(c))
                    .cloned()
                    .collect();
                added.retain(|c| !resynced.contains(c));
                removed.retain(|c| !resynced.contains(c));
                let self_removed = staged.self_removed();
                group
                    .merge_staged_commit(&self.provider, *staged)
                    .map_err(|e| Error::mls("merging a commit", e))?;
                let mut events = Vec::new();
                if !added.is_empty() {
                    events.push(Event::MembersAdded {
                        group: gid.clone(),
                        members: added,
                    });
                }
                if !removed.is_empty() {
                    events.push(Event::MembersRemoved {
                        group: gid.clone(),
                        members: removed,
                    });
                }
                if self_removed {
                    // Gone from storage too, so a later Welcome into the
                    // same group (re-invited) can be joined.
                    if let Some(mut old) = self.mls.remove(key)
                        && let Err(e) = old.delete(self.provider.storage())
                    {
                        tracing::warn!(group = %gid, error = %e, "dropping the left group's state failed");
                    }
                    if let Some(record) = self.groups.get_mut(key) {
                        record.member = false;
                    }
                    events.push(Event::Removed { group: gid.clone() });
                }
                Ok(events)
            }
            other => {
                tracing::debug!(group = %gid, content = ?std::mem::discriminant(&other), "entry without event");
                Ok(Vec::new())
            }
        }
    }
}
