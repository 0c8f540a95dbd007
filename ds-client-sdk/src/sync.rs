//! Catching up and handing events over: `sync` reads the queue at the home
//! DS page by page from the processed positions (spec §13.4); taking an
//! event removes it from the saved queue of pending events; once the
//! application has taken every pending event, the processed positions are
//! acknowledged (`ack`), which lets the DS drop those entries.

use ds_core::wire::{AckRequest, PageEnd, QsRequestBody, QsResponseBody, SyncRequest};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::inner::Inner;
use crate::transport::Transport;

/// Pages read in one sync at most, so a DS that keeps answering `more`
/// cannot hold the client forever.
const MAX_PAGES: usize = 1000;

impl Inner {
    /// Reads and applies everything new in the queue; tops up key packages
    /// when Welcomes used some.
    pub async fn sync(&mut self) -> Result<()> {
        let mut joined = 0;
        for _ in 0..MAX_PAGES {
            let body = QsRequestBody::Sync(SyncRequest {
                after: self.positions()?,
                max_entries: 0,
            });
            let request = self.identity.qs_request(&self.provider, body)?;
            let page = match self.transport.qs(&request).await? {
                QsResponseBody::Page(page) => page,
                other => return Err(Transport::unexpected(self.transport.home(), "sync", other)),
            };
            joined += self.apply_page(&page).await?.joined;
            if page.end == PageEnd::Complete {
                break;
            }
        }
        if joined > 0 {
            self.top_up().await?;
        }
        Ok(())
    }

    /// The next event for the application, removed from the saved queue;
    /// acknowledges the positions when the queue becomes empty.
    pub async fn take_event(&mut self) -> Result<Option<Event>> {
        let Some(pending) = self.pending.pop_front() else {
            return Ok(None);
        };
        let event = pending.event.to_event().ok_or_else(|| Error::State {
            path: self.dir.clone(),
            detail: format!("a pending event of {} is malformed", pending.event.group()),
        })?;
        self.save()?;
        if self.pending.is_empty()
            && let Err(e) = self.ack().await
        {
            // Not fatal: the positions are kept locally, and the next
            // acknowledgement covers these entries too.
            tracing::debug!(error = %e, "acknowledging failed");
        }
        Ok(Some(event))
    }

    /// `ack` of everything processed (and, the queue being empty, taken).
    async fn ack(&mut self) -> Result<()> {
        let body = QsRequestBody::Ack(AckRequest {
            positions: self.positions()?,
        });
        let request = self.identity.qs_request(&self.provider, body)?;
        match self.transport.qs(&request).await? {
            QsResponseBody::Ok => Ok(()),
            other => Err(Transport::unexpected(self.transport.home(), "ack", other)),
        }
    }
}
