//! A group on a running DS, built over the network: the DS's external-sender
//! key fetched from it, the group created by one client, every other client
//! added in one commit and joined from the Welcome in its inbox.

use ds_core::wire::{DsRequestBody, DsResponseBody, GroupId};
use openmls::prelude::{BasicCredential, Extension, Extensions, ExternalSender};

use crate::common::{self, Client, add_request};
use crate::net::H2;
use crate::qs::{Positions, register, sync_all};

/// The `external_senders` extension naming the DS behind `conn`.
pub async fn ds_external_sender(conn: &H2) -> Extension {
    let DsResponseBody::SignaturePublicKey(keys) = conn
        .ds(&common::anonymous(DsRequestBody::SignaturePublicKey))
        .await
        .unwrap()
    else {
        panic!("signature_public_key refused");
    };
    let key = keys.keys.as_slice()[0].public_key.as_slice().to_vec();
    let credential = BasicCredential::new(common::DOMAIN.as_bytes().to_vec()).into();
    Extension::ExternalSenders(vec![ExternalSender::new(key.into(), credential)])
}

/// Registers everyone, creates a group with `members[0]` and adds the rest.
/// Returns the group id and each member's positions after joining.
pub async fn group_of(conn: &H2, members: &mut [Client]) -> (GroupId, Vec<Positions>) {
    for member in members.iter() {
        register(conn, member).await;
    }
    let DsResponseBody::GroupId(gid) = conn
        .ds(&common::anonymous(DsRequestBody::RequestGroupId))
        .await
        .unwrap()
    else {
        panic!("request_group_id refused");
    };
    let extensions = Extensions::single(ds_external_sender(conn).await).unwrap();
    let (creator, others) = members.split_first_mut().unwrap();
    let create = creator.create_group_with(gid.as_str(), extensions);
    let created = conn
        .ds(&common::anonymous(DsRequestBody::CreateGroup(create)))
        .await
        .unwrap();
    assert!(matches!(created, DsResponseBody::Ok), "create: {created:?}");

    let key_packages: Vec<_> = others.iter().map(Client::key_package).collect();
    let (update, welcome) = creator.commit_with(|cb| cb.propose_adds(key_packages));
    let added = conn
        .ds(&creator.signed(DsRequestBody::AddUsers(add_request(
            update,
            vec![welcome.unwrap()],
        ))))
        .await
        .unwrap();
    assert!(matches!(added, DsResponseBody::Ok), "add: {added:?}");
    creator.merge();

    let mut positions = vec![Positions::default()];
    for member in others.iter_mut() {
        let mut seen = Positions::default();
        let (inbox, _) = sync_all(conn, member, &mut seen).await;
        assert_eq!(inbox.len(), 1, "one Welcome in {}'s inbox", member.id);
        let welcome = inbox[0].message.as_slice().to_vec();
        member
            .join(&welcome, &gid, |request| {
                let answer = tokio::task::block_in_place(|| {
                    tokio::runtime::Handle::current().block_on(conn.ds(request))
                })
                .unwrap();
                match answer {
                    DsResponseBody::Error(e) => Err(e),
                    response => Ok(ds_core::group::Outcome {
                        response,
                        effects: vec![],
                        state_changed: false,
                    }),
                }
            })
            .unwrap();
        positions.push(seen);
    }
    // The creator has seen its own commits already.
    sync_all(conn, &members[0], &mut positions[0]).await;
    (gid, positions)
}
