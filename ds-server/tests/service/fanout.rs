//! The guest side of federation: `receive_fanout` against real storage, with
//! requests signed by a real Ed25519 key of the owning DS. Accepted fan-outs
//! reach the local clients' queues and wake their listeners; every refusal
//! of the spec's check order is answered with its code and stores nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ds_core::wire::*;
use ds_server::service::DsService;
use ds_server::service::receive::SenderKeys;
use ds_server::storage::{Cursors, Timestamp};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::signatures::Signer;
use openmls_traits::types::{HashType, SignatureScheme};

use crate::common::{self, Ds};
use crate::support::{TestDb, on_both_backends};

on_both_backends!(
    an_accepted_fanout_reaches_the_queues_once_and_wakes_listeners,
    each_refusal_comes_in_check_order_and_stores_nothing,
    recipients_not_registered_here_are_left_out,
);

const OWNER: &str = "ds-b.example";
const GROUP: &str = "chat@ds-b.example";
const DAN: &str = "dan@ds-a.example/1";
const ERIN: &str = "erin@ds-a.example/1";

/// The owning DS's signing key and what it publishes.
struct Owner {
    key: SignatureKeyPair,
}

impl Owner {
    fn new() -> Self {
        Self {
            key: SignatureKeyPair::new(SignatureScheme::ED25519).unwrap(),
        }
    }

    fn key_id(&self) -> Vec<u8> {
        let digest = RustCrypto::default()
            .hash(HashType::Sha2_256, self.key.public())
            .unwrap();
        digest[..8].to_vec()
    }

    fn published(&self) -> Vec<DsSigningKey> {
        vec![DsSigningKey {
            key_id: ShortBytes::new(self.key_id()).unwrap(),
            signature_scheme: 0x0807,
            public_key: Bytes::new(self.key.public().to_vec()).unwrap(),
            not_after: 0,
        }]
    }

    /// `request` with its key id set and signed now-ish.
    fn sign(&self, mut request: DsFanoutRequest) -> DsFanoutRequest {
        if request.key_id.as_slice().is_empty() {
            request.key_id = ShortBytes::new(self.key_id()).unwrap();
        }
        let content = request.signed_content().unwrap();
        request.signature = ShortBytes::new(self.key.sign(&content).unwrap()).unwrap();
        request
    }
}

fn entry(seq: u64, kind: FanoutEntryKind, recipients: &[&str], body: &str) -> DsFanoutEntry {
    DsFanoutEntry {
        group_id: GroupId::new(GROUP).unwrap(),
        sequence: seq,
        kind,
        recipients: List::new(
            recipients
                .iter()
                .map(|r| DsFanoutRecipient::ClientIdentifier(ClientId::new(r).unwrap()))
                .collect(),
        )
        .unwrap(),
        mls_message: MlsBytes::new(body.as_bytes().to_vec()).unwrap(),
    }
}

fn request(entries: Vec<DsFanoutEntry>) -> DsFanoutRequest {
    DsFanoutRequest {
        version: ProtocolVersion::V1,
        sender: Domain::new(OWNER).unwrap(),
        recipient_domain: Domain::new(common::DOMAIN).unwrap(),
        key_id: ShortBytes::default(),
        timestamp: Timestamp::now().unix_secs(),
        entries: List::new(entries).unwrap(),
        signature: ShortBytes::default(),
    }
}

async fn service(db: &TestDb) -> DsService {
    let ds = Ds::new();
    let ctx = ds_core::group::EngineContext::new(
        Domain::new(common::DOMAIN).unwrap(),
        ds.ctx.ds_signature_key().as_slice().to_vec(),
    );
    for client in [DAN, ERIN] {
        db.store
            .register_client(client, &[7; 32], Timestamp::now())
            .await
            .unwrap();
    }
    DsService::new(ctx, db.store.clone())
}

/// The (domain, key id) pairs keys were asked for.
type Asked = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Answers with the owner's keys, noting for which domain and key id it
/// was asked.
#[derive(Clone)]
struct Published {
    keys: Vec<DsSigningKey>,
    asked: Asked,
}

impl SenderKeys for Published {
    async fn keys(&self, domain: &Domain, key_id: &[u8]) -> Result<Vec<DsSigningKey>, DsError> {
        self.asked
            .lock()
            .unwrap()
            .push((domain.as_str().to_owned(), key_id.to_vec()));
        Ok(self.keys.clone())
    }
}

/// The sender cannot be reached.
struct Unreachable;

impl SenderKeys for Unreachable {
    async fn keys(&self, _: &Domain, _: &[u8]) -> Result<Vec<DsSigningKey>, DsError> {
        Err(DsError::new(DsErrorCode::PeerUnavailable, "unreachable"))
    }
}

fn code(body: &DsFanoutResponseBody) -> Option<DsErrorCode> {
    match body {
        DsFanoutResponseBody::Ok => None,
        DsFanoutResponseBody::Error(e) => Some(e.code),
    }
}

async fn an_accepted_fanout_reaches_the_queues_once_and_wakes_listeners(db: TestDb) {
    let service = service(&db).await;
    let owner = Owner::new();
    let dan = service.notifier().subscribe(&ClientId::new(DAN).unwrap());
    let erin = service.notifier().subscribe(&ClientId::new(ERIN).unwrap());
    let batch = owner.sign(request(vec![
        entry(3, FanoutEntryKind::Welcome, &[DAN], "welcome"),
        entry(4, FanoutEntryKind::GroupMessage, &[DAN], "m4"),
        entry(5, FanoutEntryKind::GroupMessage, &[], "m5"),
    ]));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let keys = Published {
        keys: owner.published(),
        asked: Arc::clone(&asked),
    };

    // Served from a spawned task: the answer's future is Send, as an HTTP
    // handler needs it to be.
    let task = {
        let service = service.clone();
        let batch = batch.clone();
        let keys = keys.clone();
        tokio::spawn(async move { service.receive_fanout(&batch, &keys).await })
    };
    assert_eq!(task.await.unwrap(), DsFanoutResponseBody::Ok);
    assert_eq!(
        *asked.lock().unwrap(),
        vec![(OWNER.to_owned(), owner.key_id())]
    );
    let woken = tokio::time::timeout(Duration::from_secs(5), dan.woken()).await;
    assert!(woken.is_ok(), "Dan's listener is woken");
    let not_woken = tokio::time::timeout(Duration::from_millis(100), erin.woken()).await;
    assert!(not_woken.is_err(), "Erin has nothing new");

    let page = db.store.sync(DAN, &Cursors::default(), 100).await.unwrap();
    let inbox: Vec<&[u8]> = page.inbox.iter().map(|e| &e.message[..]).collect();
    assert_eq!(inbox, vec![&b"welcome"[..]]);
    let log: Vec<(u64, &[u8])> = page
        .group_entries
        .iter()
        .map(|e| (e.seq, &e.message[..]))
        .collect();
    assert_eq!(log, vec![(4, &b"m4"[..]), (5, &b"m5"[..])]);
    let before = db.fanout_rows().await;

    // The owner retries (a lost answer): same entries, signed again.
    let retry = owner.sign(DsFanoutRequest {
        timestamp: batch.timestamp + 1,
        ..batch.clone()
    });
    assert_eq!(
        service.receive_fanout(&retry, &keys).await,
        DsFanoutResponseBody::Ok
    );
    assert_eq!(db.fanout_rows().await, before, "stored once");
    assert_eq!(db.store.log_len(GROUP).await.unwrap(), 2);

    // The next entry, for Erin only, closes Dan's interval.
    let next = owner.sign(request(vec![entry(
        6,
        FanoutEntryKind::GroupMessage,
        &[ERIN],
        "m6",
    )]));
    assert_eq!(
        service.receive_fanout(&next, &keys).await,
        DsFanoutResponseBody::Ok
    );
    let woken = tokio::time::timeout(Duration::from_secs(5), erin.woken()).await;
    assert!(woken.is_ok(), "Erin's listener is woken");
    let erin_log = db.store.sync(ERIN, &Cursors::default(), 100).await.unwrap();
    assert_eq!(erin_log.group_entries.len(), 1);
    let dan_log = db.store.sync(DAN, &Cursors::default(), 100).await.unwrap();
    assert_eq!(dan_log.group_entries.len(), 2);
}

/// Everything that can be wrong with a fan-out, in the order the guest
/// checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Version,
    Destination,
    OwnSender,
    Stale,
    KeysUnavailable,
    UnknownKey,
    BadSignature,
    ForeignGroup,
    RemoteRecipient,
    FirstListsNoRecipients,
    WelcomeListsNoRecipients,
    Conflict,
}

const FAULTS: [(Fault, DsErrorCode); 12] = [
    (Fault::Version, DsErrorCode::UnsupportedVersion),
    (Fault::Destination, DsErrorCode::WrongDestination),
    (Fault::OwnSender, DsErrorCode::NotOwningDomain),
    (Fault::Stale, DsErrorCode::StaleRequest),
    (Fault::KeysUnavailable, DsErrorCode::PeerUnavailable),
    (Fault::UnknownKey, DsErrorCode::UnknownSigningKey),
    (Fault::BadSignature, DsErrorCode::InvalidDsSignature),
    (Fault::ForeignGroup, DsErrorCode::NotOwningDomain),
    (Fault::RemoteRecipient, DsErrorCode::NotLocalRecipient),
    (Fault::FirstListsNoRecipients, DsErrorCode::MalformedMessage),
    (
        Fault::WelcomeListsNoRecipients,
        DsErrorCode::MalformedMessage,
    ),
    (Fault::Conflict, DsErrorCode::ConflictingEntry),
];

/// A fan-out with every fault from `first` on (so each round checks that
/// the earliest failing check answers).
fn faulty(owner: &Owner, first: Fault) -> DsFanoutRequest {
    let has = |fault: Fault| fault >= first;
    let mut entries = vec![
        entry(1, FanoutEntryKind::GroupMessage, &[DAN], "new m1"),
        entry(2, FanoutEntryKind::Welcome, &[ERIN], "welcome"),
        entry(2, FanoutEntryKind::GroupMessage, &[DAN, ERIN], "m2"),
    ];
    if has(Fault::Conflict) {
        entries[0] = entry(1, FanoutEntryKind::GroupMessage, &[DAN], "other m1");
    }
    if has(Fault::FirstListsNoRecipients) {
        entries[0].recipients = List::default();
    }
    if has(Fault::WelcomeListsNoRecipients) {
        entries[1].recipients = List::default();
    }
    if has(Fault::RemoteRecipient) {
        entries.push(entry(
            3,
            FanoutEntryKind::Welcome,
            &["zed@ds-c.example/1"],
            "w",
        ));
    }
    if has(Fault::ForeignGroup) {
        let mut foreign = entry(9, FanoutEntryKind::GroupMessage, &[DAN], "x");
        foreign.group_id = GroupId::new("other@ds-c.example").unwrap();
        entries.push(foreign);
    }
    let mut request = request(entries);
    if has(Fault::Version) {
        request.version = ProtocolVersion(2);
    }
    if has(Fault::Destination) {
        request.recipient_domain = Domain::new("ds-c.example").unwrap();
    }
    if has(Fault::OwnSender) {
        request.sender = Domain::new(common::DOMAIN).unwrap();
    }
    if has(Fault::Stale) {
        request.timestamp -= 3_600;
    }
    if has(Fault::UnknownKey) {
        request.key_id = ShortBytes::new(vec![0; 8]).unwrap();
    }
    let mut request = owner.sign(request);
    if has(Fault::BadSignature) {
        let mut signature = request.signature.as_slice().to_vec();
        signature[0] ^= 1;
        request.signature = ShortBytes::new(signature).unwrap();
    }
    request
}

async fn each_refusal_comes_in_check_order_and_stores_nothing(db: TestDb) {
    let service = service(&db).await;
    let owner = Owner::new();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let keys = Published {
        keys: owner.published(),
        asked: Arc::clone(&asked),
    };
    let first = owner.sign(request(vec![entry(
        1,
        FanoutEntryKind::GroupMessage,
        &[DAN],
        "m1",
    )]));
    assert_eq!(
        service.receive_fanout(&first, &keys).await,
        DsFanoutResponseBody::Ok
    );
    let before = db.fanout_rows().await;

    for (fault, expected) in FAULTS {
        let request = faulty(&owner, fault);
        let answer = if fault <= Fault::KeysUnavailable {
            service.receive_fanout(&request, &Unreachable).await
        } else {
            service.receive_fanout(&request, &keys).await
        };
        assert_eq!(code(&answer), Some(expected), "{fault:?}: {answer:?}");
        assert_eq!(db.fanout_rows().await, before, "{fault:?} stored something");
    }
    // Only the key lookups that the check order reaches were made.
    assert!(
        asked
            .lock()
            .unwrap()
            .iter()
            .all(|(domain, _)| domain == OWNER)
    );

    // With every fault fixed the same batch is accepted.
    let fixed = owner.sign(request(vec![
        entry(1, FanoutEntryKind::GroupMessage, &[DAN], "m1"),
        entry(2, FanoutEntryKind::Welcome, &[ERIN], "welcome"),
        entry(2, FanoutEntryKind::GroupMessage, &[DAN, ERIN], "m2"),
    ]));
    assert_eq!(
        service.receive_fanout(&fixed, &keys).await,
        DsFanoutResponseBody::Ok
    );
    assert_eq!(db.store.log_len(GROUP).await.unwrap(), 2);
}

/// A recipient of this domain that is not registered here (a deleted
/// client) has no queue: it is left out, its group mates still get the
/// entries, and an entry left with no recipient is not stored.
async fn recipients_not_registered_here_are_left_out(db: TestDb) {
    const GONE: &str = "zed@ds-a.example/1";
    let service = service(&db).await;
    let owner = Owner::new();
    let keys = owner.published();
    let batch = owner.sign(request(vec![
        entry(1, FanoutEntryKind::GroupMessage, &[DAN, GONE], "m1"),
        entry(2, FanoutEntryKind::GroupMessage, &[], "m2"),
        entry(3, FanoutEntryKind::Welcome, &[GONE], "welcome for nobody"),
        entry(3, FanoutEntryKind::GroupMessage, &[GONE], "m3 for nobody"),
    ]));
    assert_eq!(
        service.receive_fanout(&batch, &keys).await,
        DsFanoutResponseBody::Ok
    );
    assert_eq!(db.store.log_len(GROUP).await.unwrap(), 2, "m1, m2 only");
    assert_eq!(db.rows("replica_welcomes").await, 0);
    assert_eq!(db.rows("inbox_entries").await, 0);
    assert_eq!(
        db.rows("memberships").await,
        1,
        "dan's only: nothing is kept for an unknown client"
    );
    // A client of another domain is still refused, whole batch.
    let foreign = owner.sign(request(vec![entry(
        4,
        FanoutEntryKind::GroupMessage,
        &[DAN, "zed@ds-c.example/1"],
        "m4",
    )]));
    assert_eq!(
        code(&service.receive_fanout(&foreign, &keys).await),
        Some(DsErrorCode::NotLocalRecipient)
    );
    assert_eq!(db.store.log_len(GROUP).await.unwrap(), 2);
}
