//! Scenario `drain`: one registered client catches up on a large backlog
//! (default 100,000 entries of one group) through `POST /mimi/v1/queue`
//! sync pages, each signed with its registered key and a fresh nonce.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Args;
use ds_core::queue::sign_qs_request;
use ds_core::wire::{
    Bytes as WireBytes, GroupPosition, List, PageEnd, QsRequestBody, QsResponseBody,
    QueuePositions, RegisterClientRequest, ShortBytes, SyncRequest,
};
use openmls::prelude::OpenMlsProvider as _;
use openmls_traits::random::OpenMlsRand as _;

use crate::common::Client;
use crate::drive::closed_loop;
use crate::group::{self, client_id};
use crate::net::Pool;
use crate::send::generate;
use crate::stats::Tally;

/// TLS SignatureScheme of Ed25519.
const ED25519: u16 = 0x0807;

/// Options of `drain`.
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// Entries to catch up on.
    #[arg(long, default_value_t = 100_000)]
    pub entries: usize,
    /// Size of the group the entries are in.
    #[arg(long, default_value_t = 2)]
    pub members: usize,
    /// Entries asked for per page (the server may cap it).
    #[arg(long, default_value_t = 1_000)]
    pub page: u32,
    /// Requests in flight while filling the backlog.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
}

/// Runs the scenario and prints its summary line.
pub async fn run(pool: &Pool, args: &DrainArgs) {
    let drainer = Client::new(&client_id("drain", 1));
    register(pool, &drainer).await;
    let mut group = group::build_with(pool, "drain", args.members.max(2), vec![drainer]).await;

    // The backlog: messages from the creator, stored before the drain starts.
    let filler = group.members.remove(0);
    let mut senders = group::Group {
        id: group.id.clone(),
        members: vec![filler],
    };
    let backlog = generate(&mut senders, args.entries);
    let started = Instant::now();
    let fill = closed_loop(
        pool,
        Arc::new(backlog),
        args.concurrency,
        Duration::from_secs(3600),
    )
    .await;
    assert_eq!(
        fill.tally.accepted, args.entries,
        "every backlog message accepted"
    );
    eprintln!(
        "load: backlog of {} stored in {:.1?}",
        args.entries,
        started.elapsed()
    );

    let drainer = &group.members[0];
    let mut tally = Tally::default();
    let (mut last, mut inbox, mut entries, mut pages, mut gaps) =
        (0u64, 0u64, 0usize, 0usize, 0usize);
    let started = Instant::now();
    loop {
        let positions = QueuePositions {
            groups: List::new(vec![GroupPosition {
                group_id: group.id.clone(),
                sequence: last,
            }])
            .expect("positions"),
            inbox,
        };
        let sync = QsRequestBody::Sync(SyncRequest {
            after: positions,
            max_entries: args.page,
        });
        let t = Instant::now();
        let answer = pool.queue(pages, &signed(drainer, sync)).await;
        tally.latencies.push(t.elapsed());
        let page = match answer {
            Ok(QsResponseBody::Page(page)) => page,
            other => panic!("sync answered {other:?}"),
        };
        pages += 1;
        inbox = page.inbox.as_slice().last().map_or(inbox, |m| m.sequence);
        for entry in page.group_entries.as_slice() {
            if entry.sequence != last + 1 && last != 0 {
                gaps += 1;
            }
            last = entry.sequence;
            entries += 1;
        }
        if page.end == PageEnd::Complete {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let p = tally.percentiles();
    println!(
        "load drain backlog={} pages={pages} entries={entries} gaps={gaps} seconds={secs:.2} \
         entries_per_s={:.0} per_page {p}",
        args.entries,
        entries as f64 / secs,
    );
}

/// Registers `client`'s signature key (open registration policy).
pub async fn register(pool: &Pool, client: &Client) {
    let body = QsRequestBody::RegisterClient(RegisterClientRequest {
        signature_scheme: ED25519,
        signature_key: WireBytes::new(client.signer.public().to_vec()).expect("key"),
        registration_token: ShortBytes::default(),
    });
    match pool.queue(0, &signed(client, body)).await {
        Ok(QsResponseBody::Ok) => {}
        other => panic!("register_client answered {other:?}"),
    }
}

/// A queue request signed by `client` now, with a fresh random nonce.
pub fn signed(client: &Client, body: QsRequestBody) -> ds_core::wire::QsRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let nonce = client.provider.rand().random_vec(16).expect("nonce");
    sign_qs_request(body, client.id.clone(), now, nonce, &client.signer)
        .expect("sign queue request")
}
