//! Rejoining a group by external commit (spec §8.10, §8.16, §11.7) when
//! this client's state of the group is lost or unusable (restored from a
//! backup, damaged, dropped by the application) while its registration is
//! intact: same client id, same registered and vouched key.
//!
//! The client asks the owning DS for `ds_external_commit_info`
//! (`registered_client` auth when the group is of its home domain,
//! `vouched_client` with its home DS's voucher otherwise), builds an
//! external commit from the GroupInfo, tree and stored proposals, and sends
//! it with `ds_external_join`. openmls removes the leaf holding the same
//! signature key in the same commit, so an old leaf of this client goes
//! (a resync); a new device of a member user has none and simply joins.
//! The log entries between the last one processed and the external commit
//! belong to epochs the client cannot read any more and are skipped
//! (`receive`); the stream resumes with the external commit.
//!
//! A device that lost its key as well has lost its registration: the DS
//! refuses to register the same client id with another key
//! (`ClientIdInUse`), so it comes back as a new device (a new client id)
//! and joins with this same call; its old client's leaf stays until a
//! member removes it or the DS does after the client's inactivity.

use ds_core::queue::{sign_registered_request, sign_vouched_request};
use ds_core::wire::{
    DsErrorCode, DsRequest, DsRequestBody, DsResponseBody, ExternalCommitInfo,
    ExternalCommitInfoRequest, GroupId, GroupUpdateRequest,
};
use openmls::prelude::{MlsGroup, MlsMessageBodyIn, MlsMessageIn, RatchetTreeIn};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::DeserializeBytes as _;

use super::commit::pack;
use super::owner;
use crate::error::{Error, Result};
use crate::identity::{nonce, now};
use crate::inner::Inner;
use crate::transport::Transport;
use crate::welcome::{group_name, join_config};

impl Inner {
    /// Rejoins `gid` by external commit, replacing whatever state of the
    /// group this client had; retries when another commit got in first.
    pub async fn rejoin(&mut self, gid: &GroupId) -> Result<()> {
        let owner = owner(gid)?;
        for attempt in 0..self.tuning.commit_attempts.max(1) {
            let request = self.external_commit_info_request(gid)?;
            let info = match self.transport.ds(&owner, &request).await? {
                DsResponseBody::ExternalCommitInfo(info) => info,
                other => return Err(Transport::unexpected(&owner, "external_commit_info", other)),
            };
            self.forget_group(gid)?;
            let (mut group, update) = self.external_commit(&info)?;
            let commit = update.commit.as_slice().to_vec();
            let request = DsRequest {
                version: ds_core::wire::ProtocolVersion::V1,
                body: DsRequestBody::ExternalJoin(GroupUpdateRequest {
                    group_update: update,
                }),
                auth: ds_core::wire::DsAuthData::Anonymous,
            };
            self.mark_sent(gid, &commit);
            self.save()?;
            let answer = match self.transport.ds(&owner, &request).await {
                Ok(DsResponseBody::Ok) => Ok(()),
                Ok(other) => Err(Transport::unexpected(&owner, "external_join", other)),
                Err(e) => Err(e),
            };
            if let Err(e) = answer {
                // Not joined (or not known to be: a new leaf this client
                // has no state for is removed by the next rejoin).
                let _ = group.delete(self.provider.storage());
                self.unmark_sent(gid, &commit);
                self.save()?;
                if e.code() != Some(DsErrorCode::WrongEpoch) {
                    return Err(e);
                }
                tracing::debug!(group = %gid, attempt, "external commit lost a race; again");
                continue;
            }
            group
                .merge_pending_commit(&self.provider)
                .map_err(|e| Error::mls("merging the external commit", e))?;
            let record = self.groups.entry(gid.as_str().to_owned()).or_default();
            record.name = group_name(&group);
            record.member = true;
            self.mls.insert(gid.as_str().to_owned(), group);
            return self.save();
        }
        Err(Error::Contended(gid.clone()))
    }

    /// Drops this client's state of `gid`, if any.
    pub(crate) fn forget_group(&mut self, gid: &GroupId) -> Result<()> {
        if let Some(mut old) = self.mls.remove(gid.as_str()) {
            old.delete(self.provider.storage())
                .map_err(|e| Error::mls("dropping the old group state", e))?;
        }
        if let Some(record) = self.groups.get_mut(gid.as_str()) {
            record.member = false;
        }
        Ok(())
    }

    /// `ds_external_commit_info` for `gid`, authenticated with the
    /// registered key: as registered client at the home DS, as vouched
    /// client elsewhere.
    fn external_commit_info_request(&self, gid: &GroupId) -> Result<DsRequest> {
        let body = DsRequestBody::ExternalCommitInfo(ExternalCommitInfoRequest {
            group_id: gid.clone(),
        });
        let identity = &self.identity;
        let nonce = nonce(&self.provider)?;
        if gid.domain() == self.transport.home().as_str() {
            sign_registered_request(body, identity.id.clone(), now(), nonce, &identity.signer)
        } else {
            let voucher = identity
                .voucher
                .clone()
                .ok_or_else(|| Error::mls("external_commit_info", "no voucher yet"))?;
            sign_vouched_request(body, voucher, now(), nonce, &identity.signer)
        }
        .map_err(|e| Error::mls("signing external_commit_info", e))
    }

    /// The external commit joining the group `info` describes: the new
    /// group (commit pending) and the update to send.
    fn external_commit(
        &self,
        info: &ExternalCommitInfo,
    ) -> Result<(MlsGroup, ds_core::wire::MlsGroupUpdate)> {
        let group_info = match MlsMessageIn::tls_deserialize_exact_bytes(info.group_info.as_slice())
            .map_err(|e| Error::mls("the GroupInfo does not decode", e))?
            .extract()
        {
            MlsMessageBodyIn::GroupInfo(group_info) => group_info,
            _ => return Err(Error::mls("external_commit_info", "not a GroupInfo")),
        };
        let tree = RatchetTreeIn::tls_deserialize_exact_bytes(info.ratchet_tree.as_slice())
            .map_err(|e| Error::mls("the ratchet tree", e))?;
        let proposals = info
            .proposals
            .as_slice()
            .iter()
            .filter_map(|p| {
                match MlsMessageIn::tls_deserialize_exact_bytes(p.as_slice())
                    .ok()?
                    .extract()
                {
                    MlsMessageBodyIn::PublicMessage(message) => Some(message),
                    _ => None,
                }
            })
            .collect();
        let provider = &self.provider;
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_proposals(proposals)
            .with_config(join_config())
            .build_group(provider, group_info, self.identity.credential())
            .map_err(|e| Error::mls("the external commit", e))?
            .leaf_node_parameters(self.identity.leaf_parameters()?)
            .load_psks(provider.storage())
            .map_err(|e| Error::mls("external commit PSKs", e))?
            .create_group_info(true)
            .build(
                provider.rand(),
                provider.crypto(),
                &self.identity.signer,
                |_| true,
            )
            .map_err(|e| Error::mls("building the external commit", e))?
            .finalize(provider)
            .map_err(|e| Error::mls("finishing the external commit", e))?;
        let (update, _) = pack(bundle)?;
        Ok((group, update))
    }
}
