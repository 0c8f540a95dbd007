//! Conversions between the queue service's wire types and storage's.

use ds_core::wire::{
    Bytes, ClientId, DsError, DsErrorCode, GroupId, GroupLogEntry, InboxMessage, List, PageEnd,
    QueuePage, QueuePositions,
};

use crate::storage::{Cursors, SyncPage};

/// Storage positions from the wire's (a group listed twice keeps the later).
pub(crate) fn to_cursors(positions: &QueuePositions) -> Cursors {
    let mut cursors = Cursors {
        inbox: positions.inbox,
        ..Cursors::default()
    };
    for position in positions.groups.as_slice() {
        let seq = cursors
            .groups
            .entry(position.group_id.as_str().to_owned())
            .or_insert(0);
        *seq = (*seq).max(position.sequence);
    }
    cursors
}

/// A stored page as sent to the client. Stored ids and messages were
/// validated when accepted, so a failure here means corrupt storage.
pub(crate) fn to_wire_page(page: SyncPage) -> Result<QueuePage, DsError> {
    let corrupt = |what: String| DsError::new(DsErrorCode::InternalError, what);
    let inbox = page
        .inbox
        .into_iter()
        .map(|entry| {
            Ok(InboxMessage {
                sequence: entry.seq,
                message: Bytes::new(entry.message)
                    .map_err(|e| corrupt(format!("stored inbox entry: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, DsError>>()?;
    let group_entries = page
        .group_entries
        .into_iter()
        .map(|entry| {
            Ok(GroupLogEntry {
                group_id: GroupId::new(&entry.group_id)
                    .map_err(|e| corrupt(format!("stored group id: {e}")))?,
                sequence: entry.seq,
                sender: entry
                    .sender
                    .map(|s| ClientId::new(&s))
                    .transpose()
                    .map_err(|e| corrupt(format!("stored sender: {e}")))?,
                message: Bytes::new(entry.message)
                    .map_err(|e| corrupt(format!("stored group entry: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, DsError>>()?;
    Ok(QueuePage {
        inbox: List::new(inbox).map_err(|e| corrupt(format!("page: {e}")))?,
        group_entries: List::new(group_entries).map_err(|e| corrupt(format!("page: {e}")))?,
        end: if page.has_more {
            PageEnd::More
        } else {
            PageEnd::Complete
        },
    })
}
