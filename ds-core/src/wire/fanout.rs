//! `DSFanoutRequest` / `DSFanoutResponse`: the owning DS's signed delivery to a guest DS.
//!
//! One request carries a batch of entries for one destination domain. The
//! signature covers every field before it (sender and recipient domain
//! included, so a request cannot be forwarded to a third domain).

use tls_codec::{Serialize, TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::{List, ShortBytes};
use super::error::DsError;
use super::group_update::MlsBytes;
use super::ids::{ClientId, Domain, GroupId};
use super::limits::{MAX_FANOUT_ENTRIES, MAX_FANOUT_RECIPIENTS};
use super::version::ProtocolVersion;

/// `DSFanoutRecipient`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum DsFanoutRecipient {
    /// A client of the destination domain.
    #[tls_codec(discriminant = 0)]
    ClientIdentifier(ClientId),
}

/// Where an entry goes on the guest DS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum FanoutEntryKind {
    /// An entry of the group's log (handshake or application message).
    GroupMessage = 0,
    /// A Welcome, for the personal inboxes of the listed recipients only.
    Welcome = 1,
}

/// One message for one group.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DsFanoutEntry {
    /// The group; its domain must be the request's sender.
    pub group_id: GroupId,
    /// The owning DS's gap-free sequence number of this entry in the group log;
    /// with `group_id` and `kind` it identifies the entry for deduplication.
    pub sequence: u64,
    /// Log entry or Welcome.
    pub kind: FanoutEntryKind,
    /// For a Welcome: its addressees. For a group message: the destination's
    /// clients who see this entry and the group's later entries, or empty to
    /// mean "the same set as this group's previous entry in this request".
    pub recipients: List<DsFanoutRecipient, MAX_FANOUT_RECIPIENTS>,
    /// The MLSMessage.
    pub mls_message: MlsBytes,
}

/// `DSFanoutRequest`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DsFanoutRequest {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// The owning DS that signs.
    pub sender: Domain,
    /// The guest DS this request is for.
    pub recipient_domain: Domain,
    /// Which of the sender's keys signed (see `signature_public_key`).
    pub key_id: ShortBytes,
    /// Unix seconds when this attempt was signed; a guest DS refuses a request
    /// outside its freshness window, so a captured request cannot be replayed later.
    pub timestamp: u64,
    /// The batch, in the sender's order for this destination.
    pub entries: List<DsFanoutEntry, MAX_FANOUT_ENTRIES>,
    /// Signature over `DSFanoutRequestTBS` (all fields above).
    pub signature: ShortBytes,
}

/// The label prefixed to `DSFanoutRequestTBS` before signing.
pub const FANOUT_SIGNATURE_LABEL: &[u8] = b"MIMI DS FanoutRequest\0";

impl DsFanoutRequest {
    /// The bytes the signature covers: the label, then every field but the signature.
    pub fn signed_content(&self) -> Result<Vec<u8>, tls_codec::Error> {
        let mut out = FANOUT_SIGNATURE_LABEL.to_vec();
        self.version.tls_serialize(&mut out)?;
        self.sender.tls_serialize(&mut out)?;
        self.recipient_domain.tls_serialize(&mut out)?;
        self.key_id.tls_serialize(&mut out)?;
        self.timestamp.tls_serialize(&mut out)?;
        self.entries.tls_serialize(&mut out)?;
        Ok(out)
    }
}

/// `DSFanoutResponseBody`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum DsFanoutResponseBody {
    /// Every entry is stored (or was already).
    #[tls_codec(discriminant = 0)]
    Ok,
    /// The batch was refused whole; nothing was stored.
    #[tls_codec(discriminant = 1)]
    Error(DsError),
}

/// `DSFanoutResponse`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct DsFanoutResponse {
    /// Protocol version.
    pub version: ProtocolVersion,
    /// The result.
    pub body: DsFanoutResponseBody,
}
