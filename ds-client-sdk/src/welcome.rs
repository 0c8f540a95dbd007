//! Joining a group from a Welcome found in the inbox (spec §8.15, §11.7):
//! open the Welcome with one of the client's key packages, ask the owning
//! DS for the ratchet tree of that epoch (`ds_welcome_info`, signed as the
//! joiner with the key package's leaf key), and join. The group's name is
//! read from its name extension.

use ds_core::group::joiner_signature_content;
use ds_core::wire::{
    Domain, DsAuthData, DsRequest, DsRequestBody, DsResponseBody, GroupId, JoinerSignature,
    ProtocolVersion, ShortBytes, WelcomeInfoRequest,
};
use openmls::prelude::{
    Extension, KeyPackageBundle, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY, MlsGroup, MlsGroupJoinConfig,
    MlsMessageBodyIn, MlsMessageIn, ProcessedWelcome, RatchetTreeIn,
};
use openmls_traits::OpenMlsProvider as _;
use openmls_traits::signatures::Signer as _;
use openmls_traits::storage::StorageProvider as _;
use tls_codec::DeserializeBytes as _;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::identity::GROUP_NAME_EXTENSION;
use crate::inner::Inner;
use crate::transport::Transport;

/// How the client takes part in groups: handshake messages in the clear
/// (the owning DS follows them as a passive member), application messages
/// encrypted.
pub fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(PAST_EPOCHS)
        .build()
}

/// Epochs whose message keys a client keeps after moving on. Messages other
/// members sent just before this client's own commit was accepted come
/// after it in no log, but the client merged its commit at once: they are
/// still in an earlier epoch when it reads them.
pub const PAST_EPOCHS: usize = 8;

/// The name a group's name extension holds (empty when it has none).
pub fn group_name(group: &MlsGroup) -> String {
    group
        .extensions()
        .iter()
        .find_map(|extension| match extension {
            Extension::Unknown(kind, data) if *kind == GROUP_NAME_EXTENSION => {
                Some(String::from_utf8_lossy(&data.0).into_owned())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Why a Welcome was not joined.
#[derive(Debug)]
pub enum JoinFailure {
    /// It may work later (the owning DS was unreachable or busy): stop and
    /// retry from this inbox entry.
    Later(Error),
    /// It never will (not for this client, malformed, refused): skip it.
    Never(Error),
}

impl Inner {
    /// Joins from the Welcome `bytes`; the event to deliver.
    pub async fn join_from_welcome(&mut self, bytes: &[u8]) -> Result<Event, JoinFailure> {
        let never = JoinFailure::Never;
        let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes)
            .map_err(|e| never(Error::mls("the Welcome does not decode", e)))?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(never(Error::mls("inbox entry", "not a Welcome")));
        };
        let storage = self.provider.storage();
        let key_package_ref = welcome
            .secrets()
            .iter()
            .map(|secret| secret.new_member())
            .find(|r| {
                storage
                    .key_package::<_, KeyPackageBundle>(r)
                    .ok()
                    .flatten()
                    .is_some()
            })
            .ok_or_else(|| {
                never(Error::mls(
                    "Welcome",
                    "for none of this client's key packages",
                ))
            })?;
        let processed = ProcessedWelcome::new_from_welcome(&self.provider, &join_config(), welcome)
            .map_err(|e| never(Error::mls("opening the Welcome", e)))?;
        let info = processed.unverified_group_info();
        let epoch = info.epoch().as_u64();
        let gid = GroupId::from_bytes(info.group_id().as_slice())
            .map_err(|e| never(Error::mls("the Welcome's group id", e)))?;
        let owner = Domain::new(gid.domain()).map_err(|e| never(Error::mls("group domain", e)))?;

        let request = self
            .joiner_request(
                DsRequestBody::WelcomeInfo(WelcomeInfoRequest {
                    group_id: gid.clone(),
                    epoch,
                }),
                key_package_ref.as_slice(),
            )
            .map_err(never)?;
        let tree = match self.transport.ds(&owner, &request).await {
            Ok(DsResponseBody::WelcomeInfo(info)) => info.ratchet_tree,
            Ok(other) => {
                return Err(never(Transport::unexpected(&owner, "welcome_info", other)));
            }
            Err(e) if e.is_retryable() => return Err(JoinFailure::Later(e)),
            Err(e) => return Err(never(e)),
        };
        let tree = RatchetTreeIn::tls_deserialize_exact_bytes(tree.as_slice())
            .map_err(|e| never(Error::mls("the ratchet tree", e)))?;
        self.drop_stale_state(&gid, info.group_id())
            .map_err(never)?;
        let group = processed
            .into_staged_welcome(&self.provider, Some(tree))
            .and_then(|staged| staged.into_group(&self.provider))
            .map_err(|e| never(Error::mls("joining", e)))?;
        let name = group_name(&group);
        let record = self.groups.entry(gid.as_str().to_owned()).or_default();
        record.name.clone_from(&name);
        record.member = true;
        self.mls.insert(gid.as_str().to_owned(), group);
        Ok(Event::Joined { group: gid, name })
    }

    /// Drops what is left of an earlier membership of `gid` (this client
    /// left or was removed, and is now invited again): openmls refuses to
    /// join a group whose state it still holds.
    fn drop_stale_state(&mut self, gid: &GroupId, mls_id: &openmls::group::GroupId) -> Result<()> {
        if self.groups.get(gid.as_str()).is_some_and(|r| r.member) {
            return Ok(());
        }
        self.mls.remove(gid.as_str());
        let storage = self.provider.storage();
        if let Some(mut stale) = MlsGroup::load(storage, mls_id)
            .map_err(|e| Error::mls("reading an earlier group state", e))?
        {
            stale
                .delete(storage)
                .map_err(|e| Error::mls("dropping an earlier group state", e))?;
        }
        Ok(())
    }

    /// `body` signed as the joiner holding the key package `key_package_ref`.
    fn joiner_request(&self, body: DsRequestBody, key_package_ref: &[u8]) -> Result<DsRequest> {
        let mut request = DsRequest {
            version: ProtocolVersion::V1,
            body,
            auth: DsAuthData::Anonymous,
        };
        let kp_ref = ShortBytes::new(key_package_ref.to_vec())
            .map_err(|e| Error::mls("key package reference", e))?;
        let content = joiner_signature_content(&request, &kp_ref)
            .map_err(|e| Error::mls("JoinerSignature content", e))?;
        let signature = self
            .identity
            .signer
            .sign(&content)
            .map_err(|e| Error::mls("signing", format!("{e:?}")))?;
        request.auth = DsAuthData::JoinerSignature(JoinerSignature {
            key_package_ref: kp_ref,
            signature: ShortBytes::new(signature).map_err(|e| Error::mls("signature", e))?,
        });
        Ok(request)
    }
}
