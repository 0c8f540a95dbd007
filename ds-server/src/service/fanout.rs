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
/// members when the operation arrived: they receive its first group message
/// (including members a commit removes, so they learn of it); a roster change
/// applies to the group messages after it (the DS's own Remove proposals
/// re-issued in the new epoch), so each outbox row lists exactly the
/// destination's clients who see that entry.
pub(crate) fn plan(
    outcome: &Outcome,
    group_id: &GroupId,
    local: &str,
    remote_before: &RemoteMembers,
) -> Plan {
    let mut plan = Plan::default();
    let mut remote = remote_before.clone();
    for effect in &outcome.effects {
        match effect {
            Effect::GroupMessage { message, sender } => {
                let index = plan.entries.len();
                plan.entries.push(NewLogEntry {
                    sender: sender.as_ref().map(|c| c.as_str().to_owned()),
                    message: message.clone(),
                });
                for (domain, members) in &remote {
                    plan.outbox.extend(outbox_entry(
                        domain,
                        index,
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
                apply_roster_change(&mut remote, local, added, removed);
            }
            Effect::Welcome {
                message,
                recipients,
            } => {
                // A Welcome belongs to the commit before it, which added its
                // recipients; the engine never emits one without a commit.
                let Some(index) = plan.entries.len().checked_sub(1) else {
                    tracing::error!(group = %group_id, "a Welcome without a commit; not fanned out");
                    continue;
                };
                let mut by_domain = RemoteMembers::new();
                for client in recipients {
                    if client.domain() == local {
                        plan.inbox.push(NewInboxEntry {
                            client_id: client.as_str().to_owned(),
                            message: message.clone(),
                        });
                    } else {
                        by_domain
                            .entry(client.domain().to_owned())
                            .or_default()
                            .push(client.clone());
                    }
                }
                for (domain, members) in &by_domain {
                    plan.outbox.extend(outbox_entry(
                        domain,
                        index,
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

/// Updates the other domains' members after a commit (removals first, as in
/// storage, so a client both removed and added stays).
fn apply_roster_change(
    remote: &mut RemoteMembers,
    local: &str,
    added: &[ClientId],
    removed: &[ClientId],
) {
    for client in removed.iter().filter(|c| c.domain() != local) {
        if let Some(members) = remote.get_mut(client.domain()) {
            members.retain(|m| m != client);
            if members.is_empty() {
                remote.remove(client.domain());
            }
        }
    }
    for client in added.iter().filter(|c| c.domain() != local) {
        let members = remote.entry(client.domain().to_owned()).or_default();
        if !members.contains(client) {
            members.push(client.clone());
        }
    }
}

/// An outbox row for log entry `index` of the operation: a `DSFanoutEntry`
/// whose `sequence` is 0 here; the sender writes the row's number into it.
fn outbox_entry(
    domain: &str,
    index: usize,
    group_id: &GroupId,
    kind: FanoutEntryKind,
    members: &[ClientId],
    message: &[u8],
) -> Option<NewOutboxEntry> {
    let recipients = members
        .iter()
        .map(|c| DsFanoutRecipient::ClientIdentifier(c.clone()))
        .collect();
    let encoded = (|| {
        let entry = DsFanoutEntry {
            group_id: group_id.clone(),
            sequence: 0,
            kind,
            recipients: List::new(recipients).ok()?,
            mls_message: Bytes::new(message.to_vec()).ok()?,
        };
        entry.tls_serialize_detached().ok()
    })();
    let Some(payload) = encoded else {
        // Beyond the wire limits (100,000 recipients, 16 MiB), which the
        // engine's own limits keep far away.
        tracing::error!(group = %group_id, %domain, "a fan-out entry exceeds the wire limits; not fanned out");
        return None;
    };
    Some(NewOutboxEntry {
        destination: domain.to_owned(),
        entry_index: index,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use ds_core::wire::{DsFanoutEntry, DsResponseBody};
    use tls_codec::Deserialize;

    use super::*;

    fn client(id: &str) -> ClientId {
        ClientId::new(id).unwrap()
    }

    fn rows(plan: &Plan) -> Vec<(String, usize, FanoutEntryKind, Vec<String>)> {
        plan.outbox
            .iter()
            .map(|row| {
                let entry = DsFanoutEntry::tls_deserialize_exact(&row.payload).unwrap();
                let recipients = entry
                    .recipients
                    .as_slice()
                    .iter()
                    .map(|DsFanoutRecipient::ClientIdentifier(c)| c.as_str().to_owned())
                    .collect();
                (
                    row.destination.clone(),
                    row.entry_index,
                    entry.kind,
                    recipients,
                )
            })
            .collect()
    }

    #[test]
    fn each_row_names_its_entry_and_who_sees_it() {
        let group = GroupId::new("g@a.example").unwrap();
        let (bob, carol, dave) = (
            client("bob@b.example/1"),
            client("carol@b.example/1"),
            client("dave@c.example/1"),
        );
        let before: RemoteMembers = [("b.example".to_owned(), vec![bob.clone(), carol.clone()])]
            .into_iter()
            .collect();
        // A commit removing carol and adding dave, then a DS Remove proposal
        // re-issued in the new epoch.
        let outcome = Outcome {
            response: DsResponseBody::Ok,
            effects: vec![
                Effect::GroupMessage {
                    message: b"commit".to_vec(),
                    sender: Some(bob.clone()),
                },
                Effect::RosterChange {
                    added: vec![dave.clone()],
                    removed: vec![carol.clone()],
                },
                Effect::Welcome {
                    message: b"welcome".to_vec(),
                    recipients: vec![dave.clone(), client("al@a.example/1")],
                },
                Effect::GroupMessage {
                    message: b"proposal".to_vec(),
                    sender: None,
                },
            ],
            state_changed: true,
        };
        let plan = plan(&outcome, &group, "a.example", &before);
        assert_eq!(plan.entries.len(), 2);
        assert_eq!(plan.inbox.len(), 1);
        let b = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            rows(&plan),
            vec![
                // Carol sees the commit that removes her.
                (
                    "b.example".into(),
                    0,
                    FanoutEntryKind::GroupMessage,
                    b(&["bob@b.example/1", "carol@b.example/1"])
                ),
                // The Welcome belongs to the commit.
                (
                    "c.example".into(),
                    0,
                    FanoutEntryKind::Welcome,
                    b(&["dave@c.example/1"])
                ),
                // The proposal after it: the new roster.
                (
                    "b.example".into(),
                    1,
                    FanoutEntryKind::GroupMessage,
                    b(&["bob@b.example/1"])
                ),
                (
                    "c.example".into(),
                    1,
                    FanoutEntryKind::GroupMessage,
                    b(&["dave@c.example/1"])
                ),
            ]
        );
    }

    #[test]
    fn a_domain_whose_last_member_left_gets_nothing_more() {
        let mut remote: RemoteMembers = [("b.example".to_owned(), vec![client("bob@b.example/1")])]
            .into_iter()
            .collect();
        apply_roster_change(&mut remote, "a.example", &[], &[client("bob@b.example/1")]);
        assert!(remote.is_empty());
    }
}
