//! Catch-up reads: everything a client may see after its positions, in pages.
//!
//! A client sees a group's entries only inside its membership intervals.
//! Membership rows and each group's `next_seq` are read in one statement (one
//! snapshot), and entries are read only up to that `next_seq`: a commit that
//! removes the client while the page is being read cannot leak what follows it.

use std::collections::BTreeMap;

use sqlx::AnyConnection;

use super::cursors::Cursors;
use super::numbers::{from_db, len_to_db, to_db};
use super::{StorageError, Store};

/// One entry of a group's log, as a client receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// The group.
    pub group_id: String,
    /// Its gap-free number in the group's log (the key clients dedupe by).
    pub seq: u64,
    /// The sending client, `None` for the DS's own messages.
    pub sender: Option<String>,
    /// The message bytes.
    pub message: Vec<u8>,
}

/// One entry of a client's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// Its gap-free number in the client's inbox.
    pub seq: u64,
    /// The message bytes.
    pub message: Vec<u8>,
}

/// One page of a sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncPage {
    /// Inbox entries in order; they come first because a Welcome must be
    /// processed before the group's entries that follow it.
    pub inbox: Vec<InboxEntry>,
    /// Group entries in (group id, sequence number) order.
    pub group_entries: Vec<GroupEntry>,
    /// More entries wait: ask again with positions advanced past this page.
    pub has_more: bool,
}

/// One membership interval of the client, with its cursor and the group's
/// `next_seq` as of the same snapshot.
#[derive(sqlx::FromRow)]
struct MembershipRow {
    group_id: String,
    from_seq: i64,
    until_seq: Option<i64>,
    acked_seq: Option<i64>,
    next_seq: i64,
}

/// The part of one group's log a client gets in this sync.
struct Window {
    group_id: String,
    first: i64,
    last: i64,
}

impl Store {
    /// Up to `limit` entries (inbox first, then groups) after the client's
    /// positions: for each group, and for the inbox, the later of the position
    /// given in `after` and the one acknowledged with [`Store::ack`]. Groups
    /// not named in `after` start at their acknowledged position. Sequence
    /// numbers are gap-free, so a client that sees a jump knows entries were
    /// dropped by retention.
    pub async fn sync(
        &self,
        client_id: &str,
        after: &Cursors,
        limit: usize,
    ) -> Result<SyncPage, StorageError> {
        if limit == 0 {
            return Err(StorageError::InvalidRequest(
                "a sync page holds at least one entry",
            ));
        }
        let mut conn = self.pool.acquire().await?;
        let mut page = SyncPage::default();
        let mut remaining = limit;

        let inbox = read_inbox(
            &mut conn,
            client_id,
            after.inbox,
            remaining.saturating_add(1),
        )
        .await?;
        if inbox.len() > remaining {
            page.has_more = true;
            page.inbox = inbox.into_iter().take(remaining).collect();
            return Ok(page);
        }
        remaining -= inbox.len();
        page.inbox = inbox;

        for window in windows(&mut conn, client_id, &after.groups).await? {
            if remaining == 0 {
                if window_has_entries(&mut conn, &window).await? {
                    page.has_more = true;
                    break;
                }
                continue;
            }
            let entries = read_window(&mut conn, &window, remaining.saturating_add(1)).await?;
            if entries.len() > remaining {
                page.has_more = true;
            }
            let taken: Vec<GroupEntry> = entries.into_iter().take(remaining).collect();
            remaining -= taken.len();
            page.group_entries.extend(taken);
            if page.has_more {
                break;
            }
        }
        Ok(page)
    }
}

async fn read_inbox(
    conn: &mut AnyConnection,
    client_id: &str,
    after: u64,
    limit: usize,
) -> Result<Vec<InboxEntry>, StorageError> {
    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "SELECT e.seq, e.message FROM inbox_entries e
         WHERE e.client_id = $1 AND e.seq > $2
           AND e.seq > COALESCE((SELECT i.acked_seq FROM inboxes i WHERE i.client_id = $1), 0)
         ORDER BY e.seq LIMIT $3",
    )
    .bind(client_id)
    .bind(to_db(after, "inbox position")?)
    .bind(len_to_db(limit, "page size")?)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(seq, message)| {
            Ok(InboxEntry {
                seq: from_db(seq, "inbox sequence number")?,
                message,
            })
        })
        .collect()
}

/// The non-empty parts of the client's membership intervals after its
/// positions, in (group, sequence) order.
async fn windows(
    conn: &mut AnyConnection,
    client_id: &str,
    given: &BTreeMap<String, u64>,
) -> Result<Vec<Window>, StorageError> {
    let rows: Vec<MembershipRow> = sqlx::query_as(
        "SELECT m.group_id, m.from_seq, m.until_seq, c.acked_seq, g.next_seq
         FROM memberships m
         JOIN groups g ON g.group_id = m.group_id
         LEFT JOIN group_cursors c ON c.client_id = m.client_id AND c.group_id = m.group_id
         WHERE m.client_id = $1",
    )
    .bind(client_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut windows = Vec::new();
    for MembershipRow {
        group_id,
        from_seq,
        until_seq,
        acked_seq,
        next_seq,
    } in rows
    {
        let given = match given.get(&group_id) {
            Some(&seq) => to_db(seq, "group position")?,
            None => 0,
        };
        let after = given.max(acked_seq.unwrap_or(0));
        let first = from_seq.max(after.saturating_add(1));
        let last = until_seq.unwrap_or(i64::MAX).min(next_seq - 1);
        if first <= last {
            windows.push(Window {
                group_id,
                first,
                last,
            });
        }
    }
    // Sorted here, not in SQL: PostgreSQL's text order depends on the collation.
    windows.sort_by(|a, b| (&a.group_id, a.first).cmp(&(&b.group_id, b.first)));
    Ok(windows)
}

async fn read_window(
    conn: &mut AnyConnection,
    window: &Window,
    limit: usize,
) -> Result<Vec<GroupEntry>, StorageError> {
    let rows: Vec<(i64, Option<String>, Vec<u8>)> = sqlx::query_as(
        "SELECT seq, sender, message FROM group_log
         WHERE group_id = $1 AND seq >= $2 AND seq <= $3
         ORDER BY seq LIMIT $4",
    )
    .bind(&window.group_id)
    .bind(window.first)
    .bind(window.last)
    .bind(len_to_db(limit, "page size")?)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|(seq, sender, message)| {
            Ok(GroupEntry {
                group_id: window.group_id.clone(),
                seq: from_db(seq, "log sequence number")?,
                sender,
                message,
            })
        })
        .collect()
}

async fn window_has_entries(
    conn: &mut AnyConnection,
    window: &Window,
) -> Result<bool, StorageError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM group_log WHERE group_id = $1 AND seq >= $2 AND seq <= $3 LIMIT 1",
    )
    .bind(&window.group_id)
    .bind(window.first)
    .bind(window.last)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}
