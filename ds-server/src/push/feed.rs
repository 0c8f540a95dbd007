//! One push connection's view of its client's queue: its own positions,
//! advanced as pages are handed out, and the wake-up registration.

use std::fmt;
use std::time::Duration;

use ds_core::wire::{DsError, QueuePage};

use super::notifier::Subscription;
use crate::service::read_refusal;
use crate::storage::{Cursors, Store, SyncPage};

/// Turns a stored page into the wire's (the queue service's conversion).
pub type PageEncoder = fn(SyncPage) -> Result<QueuePage, DsError>;

/// The entries of one authenticated client, page by page, as they are
/// stored. Everything handed out was read from storage after the wake-up
/// that announced it, never taken from memory.
pub struct Feed {
    store: Store,
    client_id: String,
    positions: Cursors,
    page_limit: usize,
    poll_interval: Duration,
    subscription: Subscription,
    encode: PageEncoder,
    /// Storage may hold entries after `positions` that were not read yet
    /// (initially, after a wake-up or poll tick, and after a full page).
    stale: bool,
}

impl fmt::Debug for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feed")
            .field("client_id", &self.client_id)
            .field("positions", &self.positions)
            .field("page_limit", &self.page_limit)
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// A feed of `client_id`'s entries after `positions` (or after its
    /// acknowledged positions, whichever is later). `subscription` must be
    /// registered before this is called, so nothing committed after the
    /// first read goes unannounced.
    pub fn new(
        store: Store,
        client_id: String,
        positions: Cursors,
        page_limit: usize,
        poll_interval: Duration,
        subscription: Subscription,
        encode: PageEncoder,
    ) -> Self {
        Self {
            store,
            client_id,
            positions,
            page_limit: page_limit.max(1),
            poll_interval,
            subscription,
            encode,
            stale: true,
        }
    }

    /// The client this feed belongs to.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The positions up to which pages were handed out.
    pub fn positions(&self) -> &Cursors {
        &self.positions
    }

    /// The next non-empty page after the feed's positions, waiting for a
    /// wake-up or the poll interval while there is none. Cancel-safe: a
    /// dropped call hands out nothing and loses no wake-up.
    pub async fn next_page(&mut self) -> Result<QueuePage, DsError> {
        loop {
            if !self.stale {
                tokio::select! {
                    () = self.subscription.woken() => {}
                    () = tokio::time::sleep(self.poll_interval) => {}
                }
                self.stale = true;
            }
            let page = self
                .store
                .sync(&self.client_id, &self.positions, self.page_limit)
                .await
                .map_err(read_refusal)?;
            self.stale = page.has_more;
            if page.inbox.is_empty() && page.group_entries.is_empty() {
                continue;
            }
            advance(&mut self.positions, &page);
            return (self.encode)(page);
        }
    }
}

/// Moves `positions` past every entry of `page`.
fn advance(positions: &mut Cursors, page: &SyncPage) {
    if let Some(last) = page.inbox.last() {
        positions.inbox = positions.inbox.max(last.seq);
    }
    for entry in &page.group_entries {
        let seq = positions.groups.entry(entry.group_id.clone()).or_insert(0);
        *seq = (*seq).max(entry.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{GroupEntry, InboxEntry};

    #[test]
    fn positions_move_past_the_page_and_never_back() {
        let mut positions = Cursors::default();
        positions.groups.insert("g1@a".into(), 9);
        let entry = |g: &str, seq| GroupEntry {
            group_id: g.into(),
            seq,
            sender: None,
            message: vec![],
        };
        let page = SyncPage {
            inbox: vec![
                InboxEntry {
                    seq: 3,
                    message: vec![],
                },
                InboxEntry {
                    seq: 4,
                    message: vec![],
                },
            ],
            group_entries: vec![entry("g1@a", 7), entry("g2@a", 1), entry("g2@a", 2)],
            has_more: false,
        };
        advance(&mut positions, &page);
        assert_eq!(positions.inbox, 4);
        assert_eq!(positions.groups.get("g1@a"), Some(&9));
        assert_eq!(positions.groups.get("g2@a"), Some(&2));
    }
}
