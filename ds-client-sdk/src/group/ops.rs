//! The operations applications call: invite, add a device, remove, leave,
//! update, send.
//!
//! Inviting by user ([`Inner::invite_users`]) asks each user's home DS for
//! one key package per client (`ds_user_key_packages`, spec §8.18, added
//! by this implementation); inviting by client id ([`Inner::invite`]) uses
//! the draft's `ds_key_packages`.

use std::collections::BTreeMap;

use ds_core::wire::{
    Bytes, ClientId, Domain, DsAuthData, DsErrorCode, DsKeyPackage, DsRequest, DsRequestBody,
    DsResponseBody, GroupId, KeyPackagesRequest, List, ProtocolVersion, SelfRemoveClientRequest,
    SendMessageRequest, UserId, UserKeyPackagesRequest,
};
use openmls::prelude::{KeyPackage, KeyPackageIn, MlsMessageBodyIn, MlsMessageIn};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{DeserializeBytes as _, Serialize as _};

use super::commit::Change;
use super::owner;
use crate::error::{Error, Result};
use crate::inner::{Inner, client_of};
use crate::transport::Transport;

impl Inner {
    /// Adds `clients` (of users not yet in the group) with one AddUsers
    /// commit; their key packages come from their home DSs.
    pub async fn invite(&mut self, gid: &GroupId, clients: &[ClientId]) -> Result<()> {
        self.group(gid)?;
        if clients.is_empty() {
            return Err(Error::Membership("nobody to invite".into()));
        }
        let key_packages = self.fetch_key_packages(clients).await?;
        self.commit(gid, &Change::Add(key_packages)).await
    }

    /// Adds `device`, another client of this client's own user, to the
    /// group with one AddClients commit (spec §8.6); its key package comes
    /// from the user's home DS.
    pub async fn add_device(&mut self, gid: &GroupId, device: &ClientId) -> Result<()> {
        self.group(gid)?;
        if device.user() != self.identity.id.user() {
            return Err(Error::Membership(format!(
                "{device} is not a device of {}",
                self.identity.id.user()
            )));
        }
        if self.members(gid)?.contains(device) {
            return Err(Error::Membership(format!("{device} is already in {gid}")));
        }
        let key_packages = self
            .fetch_key_packages(std::slice::from_ref(device))
            .await?;
        self.commit(gid, &Change::AddClients(key_packages)).await
    }

    /// Adds every client of each of `users` (none of them in the group
    /// yet) with one AddUsers commit; each user's home DS serves one key
    /// package per client (`ds_user_key_packages`, spec §8.18).
    pub async fn invite_users(&mut self, gid: &GroupId, users: &[UserId]) -> Result<()> {
        self.group(gid)?;
        if users.is_empty() {
            return Err(Error::Membership("nobody to invite".into()));
        }
        let members = self.members(gid)?;
        let mut key_packages = Vec::new();
        for user in users {
            if members.iter().any(|m| m.user() == user) {
                return Err(Error::Membership(format!("{user} is already in {gid}")));
            }
            key_packages.extend(self.fetch_user_key_packages(user).await?);
        }
        self.commit(gid, &Change::Add(key_packages)).await
    }

    /// Removes every client of `user` from the group.
    pub async fn remove(&mut self, gid: &GroupId, user: &UserId) -> Result<()> {
        self.commit(gid, &Change::Remove(user.clone())).await
    }

    /// Removes `device`, another client of this client's own user, from
    /// the group (`ds_remove_clients`, spec §8.7).
    pub async fn remove_device(&mut self, gid: &GroupId, device: &ClientId) -> Result<()> {
        if device.user() != self.identity.id.user() || device == &self.identity.id {
            return Err(Error::Membership(format!(
                "{device} is not another device of {}",
                self.identity.id.user()
            )));
        }
        self.commit(gid, &Change::RemoveDevices(vec![device.clone()]))
            .await
    }

    /// Removes every other member and so deletes the group at its owning
    /// DS (`ds_delete_group`).
    pub async fn delete_group(&mut self, gid: &GroupId) -> Result<()> {
        self.commit(gid, &Change::Delete).await?;
        self.forget_group(gid)?;
        self.save()
    }

    /// Refreshes this client's keys in the group.
    pub async fn update(&mut self, gid: &GroupId) -> Result<()> {
        self.commit(gid, &Change::Update).await
    }

    /// Proposes this client's own removal (`ds_self_remove_client`); it
    /// leaves when another member's client commits the proposal (which it
    /// does by itself, see [`super::pending`]), and then gets
    /// [`Event::Removed`](crate::Event::Removed).
    pub async fn leave(&mut self, gid: &GroupId) -> Result<()> {
        let owner = owner(gid)?;
        self.retry_on_wrong_epoch(
            gid,
            |inner| {
                let group = inner
                    .mls
                    .get_mut(gid.as_str())
                    .ok_or_else(|| Error::NotAMember(gid.clone()))?;
                let proposal = group
                    .leave_group(&inner.provider, &inner.identity.signer)
                    .map_err(|e| Error::mls("the self-removal proposal", e))?
                    .tls_serialize_detached()
                    .map_err(|e| Error::mls("encoding the proposal", e))?;
                let body = DsRequestBody::SelfRemoveClient(SelfRemoveClientRequest {
                    proposal: Bytes::new(proposal.clone())
                        .map_err(|e| Error::mls("proposal", e))?,
                });
                Ok((inner.member_request(gid, body)?, proposal))
            },
            &owner,
        )
        .await
    }

    /// Sends an application message to the group.
    pub async fn send(&mut self, gid: &GroupId, body: &[u8]) -> Result<()> {
        let owner = owner(gid)?;
        self.retry_on_wrong_epoch(gid, |inner| inner.message_request(gid, body), &owner)
            .await
    }

    /// `body` encrypted for the group's current epoch, as a signed
    /// `ds_send_message` request, and the MLS message in it.
    pub fn message_request(&mut self, gid: &GroupId, body: &[u8]) -> Result<(DsRequest, Vec<u8>)> {
        let group = self
            .mls
            .get_mut(gid.as_str())
            .ok_or_else(|| Error::NotAMember(gid.clone()))?;
        let message = group
            .create_message(&self.provider, &self.identity.signer, body)
            .map_err(|e| Error::mls("encrypting the message", e))?
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding the message", e))?;
        let request = DsRequestBody::SendMessage(SendMessageRequest {
            application_message: Bytes::new(message.clone())
                .map_err(|e| Error::mls("message", e))?,
        });
        Ok((self.member_request(gid, request)?, message))
    }

    /// Sends what `make` builds (a request and the MLS message in it) to
    /// the owning DS; after `WrongEpoch` catches up and builds it again.
    async fn retry_on_wrong_epoch(
        &mut self,
        gid: &GroupId,
        mut make: impl FnMut(&mut Self) -> Result<(DsRequest, Vec<u8>)>,
        owner: &Domain,
    ) -> Result<()> {
        for _ in 0..self.tuning.commit_attempts.max(1) {
            self.settle_pending_commit(gid).await?;
            let epoch = self.group(gid)?.epoch().as_u64();
            let (request, message) = make(self)?;
            self.mark_sent(gid, &message);
            self.save()?;
            let operation = request.body.operation().name();
            match self.transport.ds(owner, &request).await {
                Ok(DsResponseBody::Ok) => return Ok(()),
                Ok(other) => return Err(Transport::unexpected(owner, operation, other)),
                Err(e @ Error::Transport(_)) => return Err(e),
                Err(e) => {
                    self.unmark_sent(gid, &message);
                    self.save()?;
                    if e.code() != Some(DsErrorCode::WrongEpoch) {
                        return Err(e);
                    }
                    self.catch_up(gid, epoch).await?;
                }
            }
        }
        Err(Error::Contended(gid.clone()))
    }

    /// One key package per client, fetched from each client's home DS
    /// (one `ds_key_packages` per domain) and validated.
    async fn fetch_key_packages(&self, clients: &[ClientId]) -> Result<Vec<KeyPackage>> {
        let mut by_domain: BTreeMap<&str, Vec<ClientId>> = BTreeMap::new();
        for client in clients {
            by_domain
                .entry(client.domain())
                .or_default()
                .push(client.clone());
        }
        let mut key_packages = Vec::new();
        for (domain, client_ids) in by_domain {
            let domain = Domain::new(domain).map_err(|e| Error::mls("client domain", e))?;
            let request = DsRequest {
                version: ProtocolVersion::V1,
                body: DsRequestBody::KeyPackages(KeyPackagesRequest {
                    client_ids: List::new(client_ids).map_err(|e| Error::mls("client ids", e))?,
                }),
                auth: DsAuthData::Anonymous,
            };
            let served = match self.transport.ds(&domain, &request).await? {
                DsResponseBody::KeyPackages(served) => served.key_packages.into_vec(),
                other => return Err(Transport::unexpected(&domain, "key_packages", other)),
            };
            for DsKeyPackage::MlsKeyPackage(bytes) in served {
                key_packages.push(self.validated(&domain, bytes.as_slice())?);
            }
        }
        Ok(key_packages)
    }

    /// One key package per client of `user`, from its home DS.
    async fn fetch_user_key_packages(&self, user: &UserId) -> Result<Vec<KeyPackage>> {
        let domain = Domain::new(user.domain()).map_err(|e| Error::mls("user domain", e))?;
        let request = DsRequest {
            version: ProtocolVersion::V1,
            body: DsRequestBody::UserKeyPackages(UserKeyPackagesRequest {
                user_id: user.clone(),
            }),
            auth: DsAuthData::Anonymous,
        };
        let served = match self.transport.ds(&domain, &request).await? {
            DsResponseBody::KeyPackages(served) => served.key_packages.into_vec(),
            other => return Err(Transport::unexpected(&domain, "user_key_packages", other)),
        };
        let mut key_packages = Vec::new();
        for DsKeyPackage::MlsKeyPackage(bytes) in served {
            let key_package = self.validated(&domain, bytes.as_slice())?;
            let client = client_of(key_package.leaf_node().credential());
            if client.as_ref().is_none_or(|c| c.user() != user) {
                return Err(Error::Protocol {
                    domain: domain.to_string(),
                    operation: "user_key_packages",
                    detail: format!("a key package of another client than {user}'s"),
                });
            }
            key_packages.push(key_package);
        }
        Ok(key_packages)
    }

    fn validated(&self, domain: &Domain, bytes: &[u8]) -> Result<KeyPackage> {
        let bad = |detail: String| Error::Protocol {
            domain: domain.to_string(),
            operation: "key_packages",
            detail,
        };
        let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes)
            .map_err(|e| bad(format!("a key package does not decode: {e}")))?;
        let MlsMessageBodyIn::KeyPackage(key_package) = message.extract() else {
            return Err(bad("a served key package is another MLS message".into()));
        };
        KeyPackageIn::validate(
            key_package,
            self.provider.crypto(),
            openmls::prelude::ProtocolVersion::Mls10,
        )
        .map_err(|e| bad(format!("a served key package is invalid: {e}")))
    }
}
