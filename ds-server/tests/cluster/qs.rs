//! Queue-service requests of a test client: registration and catching up
//! on its inbox and group logs, with positions kept client-side.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use ds_core::queue::sign_qs_request;
use ds_core::wire::{
    Bytes, GroupId, GroupLogEntry, GroupPosition, InboxMessage, List, QsRequest, QsRequestBody,
    QsResponseBody, QueuePositions, RegisterClientRequest, SIGNATURE_SCHEME_ED25519, ShortBytes,
    SyncRequest,
};
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::random::OpenMlsRand as _;

use crate::common::Client;
use crate::net::H2;

/// `body` signed by `client`'s key, timestamped now, with a fresh nonce.
pub fn qs_signed(client: &Client, body: QsRequestBody) -> QsRequest {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let nonce = client.provider.rand().random_vec(16).unwrap();
    sign_qs_request(body, client.id.clone(), now, nonce, &client.signer).unwrap()
}

/// Registers `client` with its signature key (open registration).
pub async fn register(conn: &H2, client: &Client) {
    let body = QsRequestBody::RegisterClient(RegisterClientRequest {
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: Bytes::new(client.signer.public().to_vec()).unwrap(),
        registration_token: ShortBytes::default(),
    });
    let answer = conn.qs(&qs_signed(client, body)).await.unwrap();
    assert!(
        matches!(answer, QsResponseBody::Ok),
        "registration: {answer:?}"
    );
}

/// What a client has seen so far.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    pub groups: BTreeMap<GroupId, u64>,
    pub inbox: u64,
}

impl Positions {
    fn to_wire(&self) -> QueuePositions {
        let groups = self
            .groups
            .iter()
            .map(|(group_id, &sequence)| GroupPosition {
                group_id: group_id.clone(),
                sequence,
            })
            .collect();
        QueuePositions {
            groups: List::new(groups).unwrap(),
            inbox: self.inbox,
        }
    }
}

/// Every entry after `positions`, page by page; `positions` advance past
/// what was returned.
pub async fn sync_all(
    conn: &H2,
    client: &Client,
    positions: &mut Positions,
) -> (Vec<InboxMessage>, Vec<GroupLogEntry>) {
    let (mut inbox, mut entries) = (Vec::new(), Vec::new());
    loop {
        let body = QsRequestBody::Sync(SyncRequest {
            after: positions.to_wire(),
            max_entries: 500,
        });
        let QsResponseBody::Page(page) = conn.qs(&qs_signed(client, body)).await.unwrap() else {
            panic!("sync was refused");
        };
        for message in page.inbox.as_slice() {
            positions.inbox = positions.inbox.max(message.sequence);
        }
        for entry in page.group_entries.as_slice() {
            let seen = positions.groups.entry(entry.group_id.clone()).or_insert(0);
            *seen = (*seen).max(entry.sequence);
        }
        let more = page.has_more();
        inbox.extend(page.inbox.as_slice().iter().cloned());
        entries.extend(page.group_entries.as_slice().iter().cloned());
        if !more {
            return (inbox, entries);
        }
    }
}
