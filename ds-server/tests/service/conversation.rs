//! A conversation across the service: ids, creation, adds with Welcomes in
//! local inboxes and in the outbox for another domain, messages in the group
//! log, a stale commit refused, and a restart that reloads from storage.

use common::{Client, Ds, add_request, update_request};
use ds_core::wire::*;
use ds_server::service::DsService;
use ds_server::storage::{Cursors, Store, Timestamp};
use openmls::prelude::Extensions;

use crate::common;
use crate::support::{TestDb, on_both_backends};

const ALICE: &str = "alice@ds-a.example/laptop";
const BOB: &str = "bob@ds-a.example/phone";
const CAROL: &str = "carol@ds-b.example/pc";

fn signed(c: &Client, body: DsRequestBody) -> DsRequest {
    c.signed(body)
}

async fn ok(service: &DsService, request: &DsRequest) -> DsResponseBody {
    match service.handle(request, None).await {
        DsResponseBody::Error(e) => panic!("refused: {e}"),
        body => body,
    }
}

async fn register(store: &Store, c: &Client) {
    store
        .register_client(c.id.as_str(), c.signer.public(), Timestamp::now())
        .await
        .unwrap();
}

async fn group_log(store: &Store, client: &Client) -> Vec<Vec<u8>> {
    let page = store
        .sync(client.id.as_str(), &Cursors::default(), 1000)
        .await
        .unwrap();
    page.group_entries.into_iter().map(|e| e.message).collect()
}

async fn conversation(db: TestDb) {
    let ds = Ds::new();
    let service = DsService::new(ds_ctx(&ds), db.store.clone());
    let mut alice = Client::new(ALICE);
    let mut bob = Client::new(BOB);
    let carol = Client::new(CAROL);
    register(&db.store, &alice).await;
    register(&db.store, &bob).await;

    // A group id allocated here; creating with an unallocated one is refused.
    let DsResponseBody::GroupId(gid) =
        ok(&service, &common::anonymous(DsRequestBody::RequestGroupId)).await
    else {
        panic!("no group id")
    };
    assert_eq!(gid.domain(), "ds-a.example");
    let extensions = Extensions::single(ds.external_senders()).unwrap();
    let mut stranger = Client::new("eve@ds-a.example/x");
    let unallocated = stranger.create_group_with("nope@ds-a.example", extensions.clone());
    let refused = service
        .handle(
            &common::anonymous(DsRequestBody::CreateGroup(unallocated)),
            None,
        )
        .await;
    assert!(matches!(refused, DsResponseBody::Error(e) if e.code == DsErrorCode::InvalidGroupId));

    let create = alice.create_group_with(gid.as_str(), extensions);
    ok(
        &service,
        &common::anonymous(DsRequestBody::CreateGroup(create.clone())),
    )
    .await;
    let again = service
        .handle(&common::anonymous(DsRequestBody::CreateGroup(create)), None)
        .await;
    assert!(matches!(again, DsResponseBody::Error(e) if e.code == DsErrorCode::GroupIdInUse));

    // Alice adds bob (local) and carol (ds-b).
    let kps = vec![bob.key_package(), carol.key_package()];
    let (update, welcome) = alice.commit_with(|cb| cb.propose_adds(kps));
    let welcome = welcome.unwrap();
    let request = signed(
        &alice,
        DsRequestBody::AddUsers(add_request(update, vec![welcome.clone()])),
    );
    ok(&service, &request).await;
    alice.merge();

    // Bob finds the Welcome in his inbox; ds-b gets it through the outbox.
    let page = db.store.sync(BOB, &Cursors::default(), 100).await.unwrap();
    assert_eq!(page.inbox.len(), 1);
    assert_eq!(page.inbox[0].message, welcome);
    let outbox = db.store.outbox_pending("ds-b.example", 100).await.unwrap();
    assert_eq!(
        outbox.len(),
        1,
        "the Welcome for carol; she saw no earlier entry"
    );
    let entry = DsFanoutEntry::tls_deserialize_exact(&outbox[0].payload).unwrap();
    assert_eq!(entry.kind, FanoutEntryKind::Welcome);
    assert_eq!(
        entry.recipients.as_slice(),
        &[DsFanoutRecipient::ClientIdentifier(carol.id.clone())]
    );

    // Bob joins with the tree the service keeps for him.
    bob.join(&welcome, &gid, |r| {
        let body = block_on(service.handle(r, None));
        match body {
            DsResponseBody::Error(e) => Err(e),
            response => Ok(ds_core::group::Outcome {
                response,
                effects: Vec::new(),
                state_changed: false,
            }),
        }
    })
    .unwrap();

    // Bob's message lands once in the group log, which alice can sync.
    let text = bob.message(b"hello");
    let request = signed(
        &bob,
        DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(text.clone()).unwrap(),
        }),
    );
    ok(&service, &request).await;
    assert_eq!(group_log(&db.store, &alice).await.last(), Some(&text));
    // Carol's domain gets it too, addressed to her.
    let outbox = db.store.outbox_pending("ds-b.example", 100).await.unwrap();
    assert_eq!(outbox.len(), 2);

    // Two commits for the same epoch: the second is stale.
    let (alice_update, _) = alice.commit_with(|cb| cb.force_self_update(true));
    let (bob_update, _) = bob.commit_with(|cb| cb.force_self_update(true));
    ok(
        &service,
        &signed(
            &alice,
            DsRequestBody::UpdateClient(update_request(alice_update)),
        ),
    )
    .await;
    alice.merge();
    let stale = service
        .handle(
            &signed(
                &bob,
                DsRequestBody::UpdateClient(update_request(bob_update)),
            ),
            None,
        )
        .await;
    assert!(matches!(stale, DsResponseBody::Error(e) if e.code == DsErrorCode::WrongEpoch));
    bob.discard();

    // A second service on the same store (a restart, or another process)
    // reloads the group and refuses bob's message of the old epoch.
    let restarted = DsService::new(ds_ctx(&ds), db.store.clone());
    let old = bob.message(b"from the old epoch");
    let refused = restarted
        .handle(
            &signed(
                &bob,
                DsRequestBody::SendMessage(SendMessageRequest {
                    application_message: Bytes::new(old).unwrap(),
                }),
            ),
            None,
        )
        .await;
    assert!(matches!(refused, DsResponseBody::Error(e) if e.code == DsErrorCode::WrongEpoch));
    let log = group_log(&db.store, &bob).await;
    // Bob sees the message after his add and alice's update commit.
    assert_eq!(log.len(), 2);
}

/// The engine context of the test DS (domain ds-a.example).
fn ds_ctx(ds: &Ds) -> ds_core::group::EngineContext {
    ds_core::group::EngineContext::new(
        Domain::new(common::DOMAIN).unwrap(),
        ds.ctx.ds_signature_key().as_slice().to_vec(),
    )
    // The vouchers of the test's clients of other domains check out.
    .with_voucher_keys(std::sync::Arc::new(common::KnownKeys::of_known_domains()))
}

/// Runs a future to completion from synchronous test code inside the runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

on_both_backends!(conversation);

use tls_codec::Deserialize as _;
