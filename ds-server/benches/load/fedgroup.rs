//! A group owned by `ds-a.example` whose members are partly clients of
//! `ds-b.example`, built as real clients do: each remote client registers
//! at its home DS (B), asks it for a voucher (`client_voucher`) and puts
//! the voucher in its key package's leaf; one AddUsers commit at A adds
//! everyone. A refuses unvouched foreign members, so the add itself checks
//! that A could fetch and verify B's keys.

use std::time::{Duration, Instant};

use ds_core::wire::{
    GroupId, GroupPosition, List, PageEnd, QsRequestBody, QsResponseBody, QueuePositions,
    SyncRequest,
};
use openmls::prelude::KeyPackage;

use crate::common::Client;
use crate::domains::{A, B};
use crate::drain::{register, signed};
use crate::group::{self, Group};
use crate::net::Pool;

/// The group and the remote member that watches it at B.
pub struct FedGroup {
    /// The group and its sending members (clients of A).
    pub group: Group,
    /// A member of B (registered there): it subscribes to B's push feed
    /// and reads its queue at B.
    pub listener: Client,
    /// Members that are clients of B.
    pub remote: usize,
}

/// Client id of remote member `index` of group `tag`.
fn remote_id(tag: &str, index: usize) -> String {
    format!("{tag}-r{index}@{B}/dev")
}

/// Builds a group of `members` on A, `remote` of them clients of B, with
/// `senders` members of A able to send (the creator included).
pub async fn build(
    a: &Pool,
    b: &Pool,
    tag: &str,
    members: usize,
    remote: usize,
    senders: usize,
) -> FedGroup {
    assert!(remote >= 1, "at least one member of {B} is needed");
    assert!(remote < members, "the creator is a client of {A}");
    let started = Instant::now();
    let mut clients = Vec::with_capacity(remote);
    for i in 0..remote {
        clients.push(vouched(b, &remote_id(tag, i)).await);
    }
    eprintln!(
        "load: {remote} clients registered and vouched at {B} in {:.1?}",
        started.elapsed()
    );
    let packages: Vec<KeyPackage> = clients.iter().map(Client::key_package).collect();
    let local = members - remote;
    let active = senders.clamp(1, local);
    let joiners = (1..active)
        .map(|i| Client::new(&group::client_id(tag, i)))
        .collect();
    let group = group::build_mixed(a, tag, local, joiners, packages).await;
    let listener = clients.swap_remove(0);
    FedGroup {
        group,
        listener,
        remote,
    }
}

/// A new client of B: registered there, carrying B's voucher in its leaves.
async fn vouched(b: &Pool, id: &str) -> Client {
    let client = Client::new(id);
    register(b, &client).await;
    match b
        .queue(0, &signed(&client, QsRequestBody::ClientVoucher))
        .await
    {
        Ok(QsResponseBody::Voucher(voucher)) => client.with_voucher(Some(voucher)),
        other => panic!("client_voucher at {B} answered {other:?}"),
    }
}

/// Waits until `listener`'s inbox at B holds a message (the Welcome A
/// fanned out); `false` after `limit`.
pub async fn welcome_arrives(b: &Pool, listener: &Client, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let sync = QsRequestBody::Sync(SyncRequest {
            after: QueuePositions::default(),
            max_entries: 1,
        });
        match b.queue(0, &signed(listener, sync)).await {
            Ok(QsResponseBody::Page(page)) if !page.inbox.as_slice().is_empty() => return true,
            Ok(QsResponseBody::Page(_)) => {}
            other => panic!("sync at {B} answered {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// What `listener` can read of group `id` at B: entries and gaps in their
/// sequence numbers.
pub struct Replica {
    pub entries: usize,
    pub gaps: usize,
    pub first: u64,
    pub last: u64,
}

/// Reads the whole replica of group `id` at B as `listener`, in pages.
pub async fn read_replica(b: &Pool, listener: &Client, id: &GroupId) -> Replica {
    let mut replica = Replica {
        entries: 0,
        gaps: 0,
        first: 0,
        last: 0,
    };
    let mut inbox = 0;
    for page_no in 0usize.. {
        let after = QueuePositions {
            groups: List::new(vec![GroupPosition {
                group_id: id.clone(),
                sequence: replica.last,
            }])
            .expect("positions"),
            inbox,
        };
        let sync = QsRequestBody::Sync(SyncRequest {
            after,
            max_entries: 1_000,
        });
        let page = match b.queue(page_no, &signed(listener, sync)).await {
            Ok(QsResponseBody::Page(page)) => page,
            other => panic!("sync at {B} answered {other:?}"),
        };
        inbox = page.inbox.as_slice().last().map_or(inbox, |m| m.sequence);
        for entry in page.group_entries.as_slice() {
            if replica.entries == 0 {
                replica.first = entry.sequence;
            } else if entry.sequence != replica.last + 1 {
                replica.gaps += 1;
            }
            replica.last = entry.sequence;
            replica.entries += 1;
        }
        if page.end == PageEnd::Complete {
            break;
        }
    }
    replica
}
