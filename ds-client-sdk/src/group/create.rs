//! Creating a group on the home DS (spec §8.1, §8.2): the DS allocates the
//! id; the group lists the DS as external sender (required, so the DS can
//! propose removals) and carries its name in the GroupContext extension
//! [`GROUP_NAME_EXTENSION`], so every joiner learns it from the Welcome.

use ds_core::wire::{
    Bytes, CreateGroupRequest, DsAuthData, DsRequest, DsRequestBody, DsResponseBody, GroupId,
    GroupKind, ProtocolVersion,
};
use openmls::prelude::{
    BasicCredential, Extension, Extensions, ExternalSender, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY,
    MlsGroup, UnknownExtension,
};
use openmls_traits::OpenMlsProvider as _;
use tls_codec::Serialize as _;

use crate::error::{Error, Result};
use crate::identity::{CIPHERSUITE, GROUP_NAME_EXTENSION, Identity};
use crate::inner::Inner;
use crate::state::GroupRecord;
use crate::transport::Transport;

fn anonymous(body: DsRequestBody) -> DsRequest {
    DsRequest {
        version: ProtocolVersion::V1,
        body,
        auth: DsAuthData::Anonymous,
    }
}

impl Inner {
    /// Creates a group named `name` on the home DS, with this client as
    /// its only member.
    pub async fn create_group(&mut self, name: &str) -> Result<GroupId> {
        let home = self.transport.home().clone();
        let gid = match self
            .transport
            .ds(&home, &anonymous(DsRequestBody::RequestGroupId))
            .await?
        {
            DsResponseBody::GroupId(gid) => gid,
            other => return Err(Transport::unexpected(&home, "request_group_id", other)),
        };
        let keys = self.transport.signature_public_keys(&home).await?;
        let Some(current) = keys.first() else {
            return Err(Transport::unexpected(
                &home,
                "signature_public_key",
                "no key",
            ));
        };
        let ds_sender = ExternalSender::new(
            current.public_key.as_slice().to_vec().into(),
            BasicCredential::new(home.as_str().as_bytes().to_vec()).into(),
        );
        let extensions = Extensions::from_vec(vec![
            Extension::ExternalSenders(vec![ds_sender]),
            Extension::Unknown(
                GROUP_NAME_EXTENSION,
                UnknownExtension(name.as_bytes().to_vec()),
            ),
        ])
        .map_err(|e| Error::mls("group extensions", e))?;
        let mut group = MlsGroup::builder()
            .with_group_id(openmls::group::GroupId::from_slice(gid.as_bytes()))
            .ciphersuite(CIPHERSUITE)
            .with_wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .max_past_epochs(crate::welcome::PAST_EPOCHS)
            .with_group_context_extensions(extensions)
            .with_capabilities(Identity::capabilities())
            .with_leaf_node_extensions(self.identity.leaf_extensions()?)
            .map_err(|e| Error::mls("leaf extensions", e))?
            .build(
                &self.provider,
                &self.identity.signer,
                self.identity.credential(),
            )
            .map_err(|e| Error::mls("creating the group", e))?;
        let request = self.create_request(&group, &gid);
        let answer = match request {
            Ok(request) => self.transport.ds(&home, &request).await,
            Err(e) => Err(e),
        };
        match answer {
            Ok(DsResponseBody::Ok) => {}
            other => {
                let _ = group.delete(self.provider.storage());
                return Err(match other {
                    Ok(body) => Transport::unexpected(&home, "create_group", body),
                    Err(e) => e,
                });
            }
        }
        self.groups.insert(
            gid.as_str().to_owned(),
            GroupRecord {
                name: name.to_owned(),
                member: true,
                ..GroupRecord::default()
            },
        );
        self.mls.insert(gid.as_str().to_owned(), group);
        self.save()?;
        Ok(gid)
    }

    fn create_request(&self, group: &MlsGroup, gid: &GroupId) -> Result<DsRequest> {
        let leaf = group
            .own_leaf_node()
            .ok_or_else(|| Error::mls("the new group", "has no own leaf"))?
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding the leaf", e))?;
        let group_info = group
            .export_group_info(self.provider.crypto(), &self.identity.signer, false)
            .map_err(|e| Error::mls("the GroupInfo", e))?
            .tls_serialize_detached()
            .map_err(|e| Error::mls("encoding the GroupInfo", e))?;
        Ok(anonymous(DsRequestBody::CreateGroup(CreateGroupRequest {
            group_id: gid.clone(),
            group_kind: GroupKind::Regular,
            leaf_node: Bytes::new(leaf).map_err(|e| Error::mls("leaf", e))?,
            group_info: Bytes::new(group_info).map_err(|e| Error::mls("GroupInfo", e))?,
        })))
    }
}
