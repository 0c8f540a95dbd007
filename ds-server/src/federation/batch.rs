//! Turning pending outbox rows into the entries of one `DSFanoutRequest`:
//! each row's number written into its entry, recipient lists left out where
//! the guest may reuse the previous one, and the batch cut at the wire's
//! entry limit and a byte budget.

use std::collections::BTreeMap;

use ds_core::wire::limits::{MAX_FANOUT_ENTRIES, MAX_FANOUT_RECIPIENTS};
use ds_core::wire::{DsFanoutEntry, DsFanoutRecipient, FanoutEntryKind, GroupId, List};
use tls_codec::{Deserialize, Size};

use crate::storage::OutboxEntry;

/// Recipients of one entry as on the wire.
type Recipients = List<DsFanoutRecipient, MAX_FANOUT_RECIPIENTS>;

/// How big one request may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Entries at most (never more than the wire's [`MAX_FANOUT_ENTRIES`]).
    pub entries: usize,
    /// Encoded entries' bytes at most; a single larger entry still goes alone.
    pub bytes: usize,
}

impl Limits {
    pub(crate) fn new(entries: usize, bytes: usize) -> Self {
        Self {
            entries: entries.clamp(1, MAX_FANOUT_ENTRIES),
            bytes,
        }
    }
}

/// The entries of one request and the outbox rows they came from.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Outbox ids, in order: deleted once the destination acknowledged.
    pub ids: Vec<u64>,
    /// The entries, in the same order.
    pub entries: Vec<DsFanoutEntry>,
}

/// A batch, and the rows before its end that cannot be sent at all.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub batch: Batch,
    /// Rows whose payload does not decode or that carry no log number,
    /// with why: they can never be delivered.
    pub unsendable: Vec<(u64, &'static str)>,
}

/// Builds the longest batch from the start of `rows` (in outbox order)
/// within `limits`.
pub(crate) fn build(rows: &[OutboxEntry], limits: Limits) -> Built {
    let mut built = Built::default();
    let mut bytes = 0usize;
    // Recipients of each group's previous group message in this request.
    let mut previous: BTreeMap<GroupId, Recipients> = BTreeMap::new();
    for row in rows {
        if built.batch.entries.len() >= limits.entries {
            break;
        }
        let mut entry = match decode(row) {
            Ok(entry) => entry,
            Err(why) => {
                built.unsendable.push((row.id, why));
                continue;
            }
        };
        let saved = previous.get(&entry.group_id).cloned();
        if entry.kind == FanoutEntryKind::GroupMessage {
            compress(&mut entry, &mut previous);
        }
        let size = entry.tls_serialized_len();
        if !built.batch.entries.is_empty() && bytes.saturating_add(size) > limits.bytes {
            // Not sent now: forget what it taught the compression.
            match saved {
                Some(list) => previous.insert(entry.group_id.clone(), list),
                None => previous.remove(&entry.group_id),
            };
            break;
        }
        bytes = bytes.saturating_add(size);
        built.batch.ids.push(row.id);
        built.batch.entries.push(entry);
    }
    built
}

/// The row's entry with its log number written in.
fn decode(row: &OutboxEntry) -> Result<DsFanoutEntry, &'static str> {
    let seq = row.seq.ok_or("no log number")?;
    let mut entry =
        DsFanoutEntry::tls_deserialize_exact(&row.payload).map_err(|_| "undecodable payload")?;
    if row.group_id.as_deref() != Some(entry.group_id.as_str()) {
        return Err("payload of another group");
    }
    entry.sequence = seq;
    Ok(entry)
}

/// Empties a group message's recipients when they equal the same group's
/// previous group message in the request, else remembers them.
fn compress(entry: &mut DsFanoutEntry, previous: &mut BTreeMap<GroupId, Recipients>) {
    if previous.get(&entry.group_id) == Some(&entry.recipients) {
        entry.recipients = List::default();
    } else {
        previous.insert(entry.group_id.clone(), entry.recipients.clone());
    }
}

#[cfg(test)]
mod tests {
    use ds_core::wire::{Bytes, ClientId};
    use tls_codec::Serialize;

    use super::*;
    use crate::storage::Timestamp;

    fn recipients(names: &[&str]) -> Recipients {
        List::new(
            names
                .iter()
                .map(|n| DsFanoutRecipient::ClientIdentifier(ClientId::new(n).unwrap()))
                .collect(),
        )
        .unwrap()
    }

    fn row(
        id: u64,
        group: &str,
        seq: u64,
        kind: FanoutEntryKind,
        to: &[&str],
        size: usize,
    ) -> OutboxEntry {
        let entry = DsFanoutEntry {
            group_id: GroupId::new(group).unwrap(),
            sequence: 0,
            kind,
            recipients: recipients(to),
            mls_message: Bytes::new(vec![7; size]).unwrap(),
        };
        OutboxEntry {
            id,
            destination: "b.example".into(),
            group_id: Some(group.into()),
            seq: Some(seq),
            payload: entry.tls_serialize_detached().unwrap(),
            created_at: Timestamp::from_unix_secs(1),
        }
    }

    fn message(id: u64, group: &str, seq: u64, to: &[&str]) -> OutboxEntry {
        row(id, group, seq, FanoutEntryKind::GroupMessage, to, 10)
    }

    const BOB: &str = "bob@b.example/1";
    const CAROL: &str = "carol@b.example/1";
    const WIDE: Limits = Limits {
        entries: 100,
        bytes: 1 << 20,
    };

    /// (sequence, recipients as sent) per entry.
    fn sent(built: &Built) -> Vec<(u64, usize)> {
        built
            .batch
            .entries
            .iter()
            .map(|e| (e.sequence, e.recipients.len()))
            .collect()
    }

    #[test]
    fn numbers_come_from_the_rows() {
        let rows = [
            message(1, "g@a.example", 41, &[BOB]),
            message(2, "g@a.example", 42, &[BOB]),
        ];
        let built = build(&rows, WIDE);
        assert_eq!(built.batch.ids, vec![1, 2]);
        assert_eq!(
            built
                .batch
                .entries
                .iter()
                .map(|e| e.sequence)
                .collect::<Vec<_>>(),
            vec![41, 42]
        );
    }

    #[test]
    fn repeated_recipients_are_left_out_per_group() {
        let (g, h) = ("g@a.example", "h@a.example");
        let rows = [
            message(1, g, 1, &[BOB, CAROL]),
            message(2, h, 1, &[BOB, CAROL]), // another group: listed
            message(3, g, 2, &[BOB, CAROL]), // same as g's previous: empty
            row(4, g, 2, FanoutEntryKind::Welcome, &[CAROL], 10), // welcomes always list
            message(5, g, 3, &[BOB, CAROL]), // a Welcome does not count as previous
            message(6, g, 4, &[BOB]),        // changed: listed
            message(7, g, 5, &[BOB]),
            message(8, h, 2, &[BOB, CAROL]),
        ];
        let built = build(&rows, WIDE);
        assert_eq!(
            sent(&built),
            vec![
                (1, 2),
                (1, 2),
                (2, 0),
                (2, 1),
                (3, 0),
                (4, 1),
                (5, 0),
                (2, 0)
            ]
        );
    }

    #[test]
    fn a_batch_stops_at_the_entry_limit() {
        let rows: Vec<_> = (1..=5)
            .map(|i| message(i, "g@a.example", i, &[BOB]))
            .collect();
        let built = build(&rows, Limits::new(3, 1 << 20));
        assert_eq!(built.batch.ids, vec![1, 2, 3]);
        assert_eq!(Limits::new(0, 1).entries, 1);
        assert_eq!(Limits::new(usize::MAX, 1).entries, MAX_FANOUT_ENTRIES);
    }

    #[test]
    fn a_batch_stops_at_the_byte_budget_but_never_sends_nothing() {
        let g = "g@a.example";
        let rows = [
            row(1, g, 1, FanoutEntryKind::GroupMessage, &[BOB], 1000),
            row(2, g, 2, FanoutEntryKind::GroupMessage, &[BOB], 1000),
            row(3, g, 3, FanoutEntryKind::GroupMessage, &[BOB], 1000),
        ];
        let built = build(&rows, Limits::new(100, 2100));
        assert_eq!(built.batch.ids, vec![1, 2]);
        let encoded: usize = built
            .batch
            .entries
            .iter()
            .map(|e| e.tls_serialized_len())
            .sum();
        assert!(encoded <= 2100);
        // An entry above the budget still goes, alone.
        let built = build(&rows, Limits::new(100, 10));
        assert_eq!(built.batch.ids, vec![1]);
        assert_eq!(sent(&built), vec![(1, 1)]);
    }

    #[test]
    fn a_cut_entry_does_not_leave_compression_state_behind() {
        // Entry 2 would compress against 1 but does not fit; the next batch
        // starts with it and lists its recipients (it is first again).
        let g = "g@a.example";
        let rows = [
            row(1, g, 1, FanoutEntryKind::GroupMessage, &[BOB], 100),
            row(2, g, 2, FanoutEntryKind::GroupMessage, &[BOB], 5000),
        ];
        let built = build(&rows, Limits::new(100, 1000));
        assert_eq!(sent(&built), vec![(1, 1)]);
        let next = build(&rows[1..], Limits::new(100, 1000));
        assert_eq!(sent(&next), vec![(2, 1)]);
    }

    #[test]
    fn rows_that_cannot_be_sent_are_reported_and_skipped() {
        let g = "g@a.example";
        let mut garbage = message(2, g, 2, &[BOB]);
        garbage.payload = vec![1, 2, 3];
        let mut unnumbered = message(3, g, 3, &[BOB]);
        unnumbered.seq = None;
        let mut foreign = message(4, g, 4, &[BOB]);
        foreign.group_id = Some("h@a.example".into());
        let rows = [
            message(1, g, 1, &[BOB]),
            garbage,
            unnumbered,
            foreign,
            message(5, g, 5, &[BOB]),
        ];
        let built = build(&rows, WIDE);
        assert_eq!(built.batch.ids, vec![1, 5]);
        assert_eq!(
            built.unsendable,
            vec![
                (2, "undecodable payload"),
                (3, "no log number"),
                (4, "payload of another group")
            ]
        );
        // Entry 5 follows entry 1 of its group: compressed.
        assert_eq!(sent(&built), vec![(1, 1), (5, 0)]);
    }
}
