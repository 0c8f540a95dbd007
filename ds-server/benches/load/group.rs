//! Building a group of N members through the DS endpoint, as clients do:
//! allocate an id, create the group, add every other member in ONE AddUsers
//! commit (one Welcome covers them all), and let the sending members join
//! with the ratchet tree fetched from the DS (`welcome_info`).

use std::time::Instant;

use ds_core::group::{EngineContext, Outcome};
use ds_core::wire::{Domain, DsRequestBody, DsResponseBody, GroupId};
use openmls::prelude::{Extension, Extensions, KeyPackage};

use crate::common::{Client, add_request, anonymous};
use crate::net::Pool;
use crate::server::DOMAIN;

/// A group on the server and the members that send into it.
pub struct Group {
    /// The group's id.
    pub id: GroupId,
    /// Full openmls members: the creator first, then joined members.
    pub members: Vec<Client>,
}

/// Client id of member `index` of group `tag`.
pub fn client_id(tag: &str, index: usize) -> String {
    format!("{tag}-m{index}@{DOMAIN}/dev")
}

/// Creates a group of `size` members named after `tag`, of which the first
/// `active` (at least the creator) are full members able to send.
pub async fn build(pool: &Pool, tag: &str, size: usize, active: usize) -> Group {
    let active = active.clamp(1, size.max(1));
    let joiners = (1..active)
        .map(|i| Client::new(&client_id(tag, i)))
        .collect();
    build_with(pool, tag, size, joiners).await
}

/// Like [`build`], with these clients as members 1.. (they join); the
/// other members are fresh clients that never do.
pub async fn build_with(pool: &Pool, tag: &str, size: usize, joiners: Vec<Client>) -> Group {
    build_mixed(pool, tag, size, joiners, Vec::new()).await
}

/// Like [`build_with`] with `size` members of this domain, plus the
/// clients of `foreign` key packages (other domains' clients, whose leaves
/// carry their home DS's voucher), added in the same commit.
pub async fn build_mixed(
    pool: &Pool,
    tag: &str,
    size: usize,
    joiners: Vec<Client>,
    foreign: Vec<KeyPackage>,
) -> Group {
    let started = Instant::now();
    let foreign_count = foreign.len();
    let active = joiners.len() + 1;
    assert!(active <= size.max(1), "more joiners than members");
    let external = external_senders(pool).await;
    let DsResponseBody::GroupId(id) = pool.ds(&anonymous(DsRequestBody::RequestGroupId)).await
    else {
        panic!("request_group_id did not answer with a group id");
    };
    let mut creator = Client::new(&client_id(tag, 0));
    let create = creator.create_group_with(
        id.as_str(),
        Extensions::single(external).expect("extensions"),
    );
    let created = pool
        .ds(&anonymous(DsRequestBody::CreateGroup(create)))
        .await;
    assert!(
        matches!(created, DsResponseBody::Ok),
        "create_group: {created:?}"
    );

    let mut roster = vec![client_id(tag, 0)];
    roster.extend(joiners.iter().map(|c| c.id.as_str().to_owned()));
    roster.extend((active..size).map(|i| client_id(tag, i)));
    let mut members = vec![creator];
    if size + foreign_count > 1 {
        let mut packages: Vec<KeyPackage> = joiners.iter().map(Client::key_package).collect();
        packages.extend(key_packages(&roster[active..]));
        packages.extend(foreign);
        let t = Instant::now();
        let (update, welcome) = members[0].commit_with(|cb| cb.propose_adds(packages));
        let welcome = welcome.expect("an add commit has a Welcome");
        let commit_time = t.elapsed();
        let add = members[0].signed(DsRequestBody::AddUsers(add_request(
            update,
            vec![welcome.clone()],
        )));
        let t = Instant::now();
        let added = pool.ds(&add).await;
        assert!(matches!(added, DsResponseBody::Ok), "add_users: {added:?}");
        eprintln!(
            "load: group {tag}: {} adds in one commit (client {commit_time:.0?}, DS {:.0?})",
            size + foreign_count - 1,
            t.elapsed()
        );
        members[0].merge();
        for mut joiner in joiners {
            join(pool, &mut joiner, &welcome, &id);
            members.push(joiner);
        }
    }
    eprintln!(
        "load: group {tag}: {} members ({active} active, {foreign_count} of other domains) \
         built in {:.1?}",
        size + foreign_count,
        started.elapsed()
    );
    Group { id, members }
}

/// The server's external-sender extension (its signing key, as the engine
/// of the DS names itself).
async fn external_senders(pool: &Pool) -> Extension {
    let DsResponseBody::SignaturePublicKey(keys) =
        pool.ds(&anonymous(DsRequestBody::SignaturePublicKey)).await
    else {
        panic!("signature_public_key did not answer with keys");
    };
    let key = keys.keys.as_slice().first().expect("one DS key");
    let ctx = EngineContext::new(
        Domain::new(DOMAIN).expect("domain"),
        key.public_key.as_slice().to_vec(),
    );
    Extension::ExternalSenders(vec![ctx.ds_external_sender()])
}

/// Joins `client` from `welcome`, fetching the tree over the network.
fn join(pool: &Pool, client: &mut Client, welcome: &[u8], id: &GroupId) {
    let fetch = |request: &_| {
        let response = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(pool.ds(request))
        });
        match response {
            DsResponseBody::Error(e) => Err(e),
            response => Ok(Outcome {
                response,
                effects: vec![],
                state_changed: false,
            }),
        }
    };
    client.join(welcome, id, fetch).expect("join");
}

/// Key packages of fresh clients with these ids, made on all cores.
fn key_packages(ids: &[String]) -> Vec<KeyPackage> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = ids.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|ids| {
                s.spawn(move || {
                    ids.iter()
                        .map(|id| Client::new(id).key_package())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("key package thread"))
            .collect()
    })
}
