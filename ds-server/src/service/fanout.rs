//! Turns the engine's effects into what storage keeps: log entries, local
//! roster changes and inbox entries, and one outbox row per other domain.

use std::collections::BTreeMap;

use ds_core::group::{DsGroup, Effect, Outcome};
use ds_core::wire::{
    Bytes, ClientId, DsFanoutEntry, DsFanoutRecipient, FanoutEntryKind, GroupId, List,
};
use tls_codec::Serialize;

use crate::storage::{NewInboxEntry, NewLogEntry, NewOutboxEntry};

/// Members of other domains, by domain.
pub(crate) type RemoteMembers = BTreeMap<String, Vec<ClientId>>;

/// The group's members that live on other domains than `local`.
pub(crate) fn remote_members(group: &DsGroup, local: &str) -> RemoteMembers {
    let mut by_domain = RemoteMembers::new();
    for client in group.roster().clients().filter(|c| c.domain() != local) {
        by_domain
            .entry(client.domain().to_owned())
            .or_default()
            .push(client.clone());
    }
    by_domain
}

/// What one accepted operation writes.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub entries: Vec<NewLogEntry>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub inbox: Vec<NewInboxEntry>,
    pub outbox: Vec<NewOutboxEntry>,
    pub delete_group: bool,
}

/// Maps `outcome`'s effects, in order. `remote_before` are the other domains'
/// members when the operation arrived: they receive its group messages
/// (including members a commit removes, so they learn of it).
pub(crate) fn plan(
    outcome: &Outcome,
    group_id: &GroupId,
    local: &str,
    remote_before: &RemoteMembers,
) -> Plan {
    let mut plan = Plan::default();
    for effect in &outcome.effects {
        match effect {
            Effect::GroupMessage { message, sender } => {
                plan.entries.push(NewLogEntry {
                    sender: sender.as_ref().map(|c| c.as_str().to_owned()),
                    message: message.clone(),
                });
                for (domain, members) in remote_before {
                    plan.outbox.extend(outbox_entry(
                        domain,
                        group_id,
                        FanoutEntryKind::GroupMessage,
                        members,
                        message,
                    ));
                }
            }
            Effect::RosterChange { added, removed } => {
                let local_ids = |cs: &[ClientId]| {
                    cs.iter()
                        .filter(|c| c.domain() == local)
                        .map(|c| c.as_str().to_owned())
                        .collect::<Vec<_>>()
                };
                plan.added.extend(local_ids(added));
                plan.removed.extend(local_ids(removed));
            }
            Effect::Welcome {
                message,
                recipients,
            } => {
                let mut remote = RemoteMembers::new();
                for client in recipients {
                    if client.domain() == local {
                        plan.inbox.push(NewInboxEntry {
                            client_id: client.as_str().to_owned(),
                            message: message.clone(),
                        });
                    } else {
                        remote
                            .entry(client.domain().to_owned())
                            .or_default()
                            .push(client.clone());
                    }
                }
                for (domain, members) in &remote {
                    plan.outbox.extend(outbox_entry(
                        domain,
                        group_id,
                        FanoutEntryKind::Welcome,
                        members,
                        message,
                    ));
                }
            }
            Effect::GroupDeleted => plan.delete_group = true,
        }
    }
    plan
}

/// An outbox row: a `DSFanoutEntry` whose `sequence` is 0 here and is taken
/// from the row's log-number range when the batch is sent.
fn outbox_entry(
    domain: &str,
    group_id: &GroupId,
    kind: FanoutEntryKind,
    members: &[ClientId],
    message: &[u8],
) -> Option<NewOutboxEntry> {
    let recipients = members
        .iter()
        .map(|c| DsFanoutRecipient::ClientIdentifier(c.clone()))
        .collect();
    let entry = DsFanoutEntry {
        group_id: group_id.clone(),
        sequence: 0,
        kind,
        recipients: List::new(recipients).ok()?,
        mls_message: Bytes::new(message.to_vec()).ok()?,
    };
    let payload = entry.tls_serialize_detached().ok()?;
    Some(NewOutboxEntry {
        destination: domain.to_owned(),
        payload,
    })
}
