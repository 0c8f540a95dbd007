//! The client's mutable state behind one lock: identity, openmls provider
//! and groups, queue positions and the events waiting for the application.
//! Every method that changes it ends with [`Inner::save`], so what is on
//! disk is always a state the client was in.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use ds_core::group::client_signature_content;
use ds_core::wire::{
    ClientId, DsAuthData, DsRequest, DsRequestBody, GroupId, GroupPosition, List, ProtocolVersion,
    QueuePositions, ShortBytes,
};
use openmls::prelude::{BasicCredential, Credential, MlsGroup};
use openmls_traits::signatures::Signer as _;
use sha2::{Digest, Sha256};

use crate::config::Tuning;
use crate::error::{Error, Result};
use crate::event::Pending;
use crate::identity::Identity;
use crate::provider::SdkProvider;
use crate::state::{self, GroupRecord, STATE_FORMAT, Saved};
use crate::transport::Transport;

/// The state of an open client.
#[derive(Debug)]
pub struct Inner {
    /// Who it is.
    pub identity: Identity,
    /// openmls crypto and storage.
    pub provider: SdkProvider,
    /// Whether the home DS accepted the registration.
    pub registered: bool,
    /// Last inbox sequence number processed.
    pub inbox: u64,
    /// What the SDK keeps per group, by group id.
    pub groups: BTreeMap<String, GroupRecord>,
    /// The MLS state of the groups it is a member of.
    pub mls: HashMap<String, MlsGroup>,
    /// Events not yet taken by the application.
    pub pending: VecDeque<Pending>,
    /// Where the state lives.
    pub dir: PathBuf,
    /// How DSs are reached.
    pub transport: Transport,
    /// Knobs.
    pub tuning: Tuning,
    /// Where commits of pending removals are scheduled (see
    /// [`crate::group::pending`]); none before the client is open.
    pub due: Option<tokio::sync::mpsc::UnboundedSender<crate::group::pending::Due>>,
}

impl Inner {
    /// Writes the whole state to disk, atomically.
    pub fn save(&self) -> Result<()> {
        let saved = Saved {
            format: STATE_FORMAT,
            client_id: self.identity.id.as_str().to_owned(),
            signer_public: self.identity.signer.public().to_vec(),
            registered: self.registered,
            voucher: self
                .identity
                .voucher
                .as_ref()
                .map(|v| {
                    use tls_codec::Serialize as _;
                    v.tls_serialize_detached()
                })
                .transpose()
                .map_err(|e| Error::mls("encoding the voucher", e))?,
            inbox: self.inbox,
            groups: self.groups.clone(),
            pending: self.pending.clone(),
            storage: self.provider.snapshot(),
        };
        state::store(&self.dir, &saved)
    }

    /// The positions after everything processed: what sync and subscribe
    /// ask to continue from.
    pub fn positions(&self) -> Result<QueuePositions> {
        let groups = self
            .groups
            .iter()
            .filter(|(_, record)| record.last_seq > 0)
            .map(|(gid, record)| {
                Ok(GroupPosition {
                    group_id: GroupId::new(gid).map_err(|e| Error::mls("a stored group id", e))?,
                    sequence: record.last_seq,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(QueuePositions {
            groups: List::new(groups).map_err(|e| Error::mls("queue positions", e))?,
            inbox: self.inbox,
        })
    }

    /// The MLS group `gid`, if this client is a member.
    pub fn group(&self, gid: &GroupId) -> Result<&MlsGroup> {
        self.mls
            .get(gid.as_str())
            .ok_or_else(|| Error::NotAMember(gid.clone()))
    }

    /// `body` signed by this client's leaf in `group` (`ClientSignature`).
    pub fn member_request(&self, gid: &GroupId, body: DsRequestBody) -> Result<DsRequest> {
        let sender_index = self.group(gid)?.own_leaf_index().u32();
        self.member_request_at(body, sender_index)
    }

    /// `body` signed by this client's key as the leaf at `sender_index`.
    pub fn member_request_at(&self, body: DsRequestBody, sender_index: u32) -> Result<DsRequest> {
        let mut request = DsRequest {
            version: ProtocolVersion::V1,
            body,
            auth: DsAuthData::Anonymous,
        };
        let content = client_signature_content(&request, sender_index)
            .map_err(|e| Error::mls("ClientSignature content", e))?;
        let signature = self
            .identity
            .signer
            .sign(&content)
            .map_err(|e| Error::mls("signing a request", format!("{e:?}")))?;
        request.auth = DsAuthData::ClientSignature(ds_core::wire::ClientSignature {
            sender_index,
            signature: ShortBytes::new(signature).map_err(|e| Error::mls("signature", e))?,
        });
        Ok(request)
    }

    /// Remembers `message` as sent by this client in `gid`, so that it is
    /// recognised as its own when the log shows it.
    pub fn mark_sent(&mut self, gid: &GroupId, message: &[u8]) {
        let record = self.groups.entry(gid.as_str().to_owned()).or_default();
        record.sent.push(digest(message));
    }

    /// Forgets a message marked sent that the DS refused.
    pub fn unmark_sent(&mut self, gid: &GroupId, message: &[u8]) {
        let hash = digest(message);
        if let Some(record) = self.groups.get_mut(gid.as_str()) {
            record.sent.retain(|h| *h != hash);
        }
    }
}

/// SHA-256 of an MLS message, how sent messages are recognised.
pub fn digest(message: &[u8]) -> [u8; 32] {
    Sha256::digest(message).into()
}

/// The client id a member's basic credential names, if well-formed.
pub fn client_of(credential: &Credential) -> Option<ClientId> {
    let basic = BasicCredential::try_from(credential.clone()).ok()?;
    let text = std::str::from_utf8(basic.identity()).ok()?;
    ClientId::new(text).ok()
}
