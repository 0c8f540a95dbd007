//! Reading a client's queue without taking anything from it: a sync of
//! its own from the start, which moves no position. The suite's clients
//! acknowledge entries only when the application takes their events, so
//! what this shows is what the DS stored for them.

use ds_client_sdk::{Client, GroupId};
use ds_core::wire::{QsRequest, QsRequestBody, QsResponseBody, QueuePositions, SyncRequest};

use crate::forge::now;
use crate::scenario::{Context as _, Failure, ensure};

/// A sync from the start (which reads and moves nothing).
pub fn sync_body() -> QsRequestBody {
    QsRequestBody::Sync(SyncRequest {
        after: QueuePositions::default(),
        max_entries: 0,
    })
}

/// `client`'s own sync, signed now.
pub async fn signed_sync(client: &Client) -> Result<QsRequest, Failure> {
    client
        .sign_queue_request(sync_body(), now())
        .await
        .ctx(format!("{}: signing a sync", client.id()))
}

/// The entries of `group` that `reader` has not acknowledged (its client
/// acknowledges only when the application takes an event), read by a sync
/// of its own: (sequence, message).
pub async fn unacked(reader: &Client, group: &GroupId) -> Result<Vec<(u64, Vec<u8>)>, Failure> {
    let request = signed_sync(reader).await?;
    let page = match reader.post_queue(&request).await.ctx("a raw sync")? {
        QsResponseBody::Page(page) => page,
        other => return Err(Failure(format!("a raw sync answered {other:?}"))),
    };
    ensure!(!page.has_more(), "{}: more than a page waits", reader.id());
    Ok(page
        .group_entries
        .as_slice()
        .iter()
        .filter(|e| &e.group_id == group)
        .map(|e| (e.sequence, e.message.as_slice().to_vec()))
        .collect())
}
