//! `sync` and `ack` of the authenticated client's own queue: its inbox and
//! the logs of its groups. The client id always comes from the
//! authentication, so no request can read or move another client's queue.

use ds_core::wire::limits::MAX_SYNC_ENTRIES;
use ds_core::wire::{AckRequest, DsError, QsResponseBody, SyncRequest};

use super::super::DsService;
use super::super::errors::read_refusal;
use super::{to_cursors, to_wire_page};
use crate::storage::StoredClient;

impl DsService {
    /// `sync`: one page of entries after the given positions (or the
    /// acknowledged ones, whichever is later), inbox first.
    pub(super) async fn sync(
        &self,
        client: &StoredClient,
        request: &SyncRequest,
    ) -> Result<QsResponseBody, DsError> {
        let limit = self.page_limit(request.max_entries);
        let page = self
            .inner
            .store
            .sync(&client.client_id, &to_cursors(&request.after), limit)
            .await
            .map_err(read_refusal)?;
        Ok(QsResponseBody::Page(to_wire_page(page)?))
    }

    /// `ack`: the client has everything up to these positions. Positions
    /// never move back and are clamped to what exists.
    pub(super) async fn ack(
        &self,
        client: &StoredClient,
        request: &AckRequest,
    ) -> Result<QsResponseBody, DsError> {
        self.inner
            .store
            .ack(&client.client_id, &to_cursors(&request.positions))
            .await
            .map_err(read_refusal)?;
        Ok(QsResponseBody::Ok)
    }

    /// Entries of one page for a client that asked for `requested` (0: as
    /// many as the server allows): at most the configured maximum, and never
    /// more than a page can encode.
    pub(crate) fn page_limit(&self, requested: u32) -> usize {
        let configured = usize::try_from(self.inner.options.max_page_entries).unwrap_or(usize::MAX);
        let server_max = configured.clamp(1, MAX_SYNC_ENTRIES);
        match usize::try_from(requested) {
            Ok(0) | Err(_) => server_max,
            Ok(requested) => requested.min(server_max),
        }
    }
}
