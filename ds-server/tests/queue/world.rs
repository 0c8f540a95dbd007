//! A DS on loopback over a test database, and a conversation driven through
//! `POST /mimi/v1/ds` by clients registered through `POST /mimi/v1/queue`.

use ds_core::group::EngineContext;
use ds_core::group::Outcome;
use ds_core::wire::{Bytes, Domain, DsRequestBody, DsResponseBody, GroupId, SendMessageRequest};
use ds_server::http::Limits;
use ds_server::service::{DsService, ServiceOptions};
use openmls::prelude::Extensions;

use crate::common::{self, Client, Ds, add_request};
use crate::net::{ok, post_blocking};
use crate::qs::register;
use crate::support::TestDb;
use crate::transport::TestServer;

/// The engine context of the test DS (domain ds-a.example).
pub fn ds_ctx(ds: &Ds) -> EngineContext {
    EngineContext::new(
        Domain::new(common::DOMAIN).unwrap(),
        ds.ctx.ds_signature_key().as_slice().to_vec(),
    )
}

/// A DS of ds-a.example with `options`, serving `db` on loopback.
pub async fn start(db: &TestDb, options: ServiceOptions) -> (Ds, TestServer) {
    let ds = Ds::new();
    let service = DsService::with_options(ds_ctx(&ds), db.store.clone(), options);
    let server = TestServer::start(service, Limits::default()).await;
    (ds, server)
}

/// A group created by its first member, who added the others in one commit.
pub struct Conversation {
    /// Members in the order given; the first created the group.
    pub members: Vec<Client>,
    /// The group.
    pub group_id: GroupId,
    /// The Welcome of the add commit.
    pub welcome: Vec<u8>,
    /// Log length after the add commit: later members see what follows.
    pub added_at: u64,
}

impl Conversation {
    /// Registers every member over the queue service; the first creates a
    /// group with a server-allocated id, adds the others in one commit, and
    /// they join from the Welcome with the tree fetched over the network.
    pub async fn start(server: &TestServer, db: &TestDb, ds: &Ds, ids: &[&str]) -> Self {
        let mut members: Vec<Client> = ids.iter().map(|id| Client::new(id)).collect();
        for member in &members {
            register(server, member.id.as_str(), &member.signer).await;
        }
        let DsResponseBody::GroupId(group_id) =
            ok(server, &common::anonymous(DsRequestBody::RequestGroupId)).await
        else {
            panic!("request_group_id did not answer with a group id")
        };
        let extensions = Extensions::single(ds.external_senders()).unwrap();
        let create = members[0].create_group_with(group_id.as_str(), extensions);
        let created = ok(
            server,
            &common::anonymous(DsRequestBody::CreateGroup(create)),
        )
        .await;
        assert!(matches!(created, DsResponseBody::Ok), "got {created:?}");

        let key_packages: Vec<_> = members[1..].iter().map(Client::key_package).collect();
        let (update, welcome) = members[0].commit_with(|cb| cb.propose_adds(key_packages));
        let welcome = welcome.expect("an add commit comes with a Welcome");
        let added = ok(
            server,
            &members[0].signed(DsRequestBody::AddUsers(add_request(
                update,
                vec![welcome.clone()],
            ))),
        )
        .await;
        assert!(matches!(added, DsResponseBody::Ok), "got {added:?}");
        members[0].merge();
        let added_at = db.store.log_len(group_id.as_str()).await.unwrap();
        for joiner in &mut members[1..] {
            joiner
                .join(&welcome, &group_id, |request| {
                    match post_blocking(server, request) {
                        DsResponseBody::Error(e) => Err(e),
                        response => Ok(Outcome {
                            response,
                            effects: vec![],
                            state_changed: false,
                        }),
                    }
                })
                .unwrap();
        }
        Self {
            members,
            group_id,
            welcome,
            added_at,
        }
    }

    /// Member `index` sends `text`; returns the MLS message stored.
    pub async fn send(&mut self, server: &TestServer, index: usize, text: &[u8]) -> Vec<u8> {
        let message = self.members[index].message(text);
        let sent = ok(
            server,
            &self.members[index].signed(DsRequestBody::SendMessage(SendMessageRequest {
                application_message: Bytes::new(message.clone()).unwrap(),
            })),
        )
        .await;
        assert!(matches!(sent, DsResponseBody::Ok), "got {sent:?}");
        message
    }
}
