//! `DSError`: a numbered reason for every rejection, plus text for people.
//!
//! The numbers are part of the protocol (`spec/protocol.md`, "Error codes"):
//! once assigned they never change meaning and are never reused.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::Bytes;

/// Longest `detail` text a `DSError` carries.
pub const MAX_ERROR_DETAIL: usize = 1024;

/// Every reason the DS can give for refusing a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u16)]
pub enum DsErrorCode {
    /// The bytes are not a well-formed message of this protocol.
    MalformedMessage = 1,
    /// The protocol version is not one this DS speaks.
    UnsupportedVersion = 2,
    /// The DS failed internally; the request had no effect.
    InternalError = 3,
    /// The operation is not one the addressed component handles.
    UnsupportedOperation = 4,
    /// Too many requests; retry after the delay in the HTTP `Retry-After` header.
    RateLimited = 5,
    /// The operation needs a different kind of authentication.
    WrongAuthType = 20,
    /// A `ClientSignature` did not verify under the sender's leaf key.
    InvalidClientSignature = 21,
    /// `sender_index` names no member leaf.
    UnknownSender = 22,
    /// The DSRequest's `sender_index` differs from the MLS message's sender.
    SenderMismatch = 23,
    /// The requester may not perform this operation.
    Unauthorized = 24,
    /// A queue request's timestamp is outside the server's freshness window.
    StaleRequest = 25,
    /// A queue request's nonce was already used within the freshness window.
    ReplayedRequest = 26,
    /// A queue request's signature does not verify under the client's registered key.
    InvalidRequestSignature = 27,
    /// Registration is refused: no, an invalid or a used token, or an unsupported key.
    RegistrationRefused = 28,
    /// No group with this id lives on this DS.
    GroupNotFound = 30,
    /// The MLS message belongs to another group than the one addressed.
    WrongGroup = 31,
    /// The group id is already taken.
    GroupIdInUse = 32,
    /// The group id is malformed, not of this domain, or was not allocated here.
    InvalidGroupId = 33,
    /// The creator's LeafNode is invalid.
    InvalidLeafNode = 40,
    /// The GroupInfo is invalid or does not match the DS's view.
    InvalidGroupInfo = 41,
    /// The group does not list this DS as external sender.
    MissingExternalSender = 42,
    /// A handshake message was not sent as a PublicMessage.
    NotPublicMessage = 50,
    /// The message has the wrong content type for the operation.
    WrongContentType = 51,
    /// The message is not for the group's current epoch.
    WrongEpoch = 52,
    /// The commit failed MLS validation.
    InvalidCommit = 53,
    /// The proposal failed MLS validation.
    InvalidProposal = 54,
    /// An application message was not sent as a PrivateMessage.
    NotPrivateMessage = 55,
    /// The uploaded GroupInfo parts do not yield a valid signed GroupInfo.
    InvalidPartialGroupInfo = 56,
    /// The commit holds a proposal the operation does not allow.
    ProposalNotAllowed = 60,
    /// AddUsers adds a client of a user who is already a member.
    AddsExistingUser = 61,
    /// A connection KeyPackage used outside a connection group.
    ConnectionKeyPackageNotAllowed = 62,
    /// A new client is not covered by any Welcome, or a Welcome is for no new client.
    WelcomeMismatch = 63,
    /// A Welcome message is malformed.
    InvalidWelcome = 64,
    /// RemoveUsers leaves some client of a removed user in the group.
    IncompleteUserRemoval = 65,
    /// AddClients adds a client of another user than the committer's.
    AddsForeignClient = 66,
    /// RemoveClients targets a client of another user, or the sender itself.
    RemovesForeignClient = 67,
    /// SelfRemoveClient is not one Remove proposal of the sender.
    NotSelfRemove = 68,
    /// UpdateClient has no update path or carries proposals.
    InvalidUpdate = 69,
    /// ExternalJoin is not a NewMemberCommit, or its Removes are not a resync.
    InvalidExternalJoin = 70,
    /// The joiner's user is not a member, so it may not join by external commit.
    ExternalJoinNotAllowed = 71,
    /// DeleteGroup does not remove every member but the committer.
    IncompleteGroupDeletion = 72,
    /// A leaf changed its client identity.
    CredentialChanged = 73,
    /// A credential is not a basic credential naming a well-formed client id.
    InvalidCredential = 74,
    /// The same client would hold two leaves.
    DuplicateClient = 75,
    /// The requester is not a member of the group.
    NotAMember = 76,
    /// The DS keeps no ratchet tree of that epoch for this client.
    NoWelcomeInfo = 77,
    /// The group state could not be restored from storage.
    CorruptState = 79,
    /// The client id names no client of this DS.
    UnknownClient = 80,
    /// The client has no key package to hand out.
    NoKeyPackage = 81,
    /// The client id is already registered (with another key).
    ClientIdInUse = 82,
    /// A published key package is invalid (signature, lifetime, ciphersuite,
    /// credential or key not the registered client's).
    InvalidKeyPackage = 83,
    /// A fan-out's `recipient_domain` is not this DS's domain.
    WrongDestination = 90,
    /// The sender's `key_id` names no valid key of that DS (after a refetch).
    UnknownSigningKey = 91,
    /// A fan-out signature or a voucher signature did not verify.
    InvalidDsSignature = 92,
    /// The fan-out's sender does not own an entry's group.
    NotOwningDomain = 93,
    /// A fan-out recipient is not a client of this DS.
    NotLocalRecipient = 94,
    /// A fan-out entry reuses a stored (group, sequence) with other content.
    ConflictingEntry = 95,
    /// Another domain's DS could not be reached or answered badly; retry later.
    PeerUnavailable = 96,
    /// A client of another domain has no valid voucher of its home DS.
    UnvouchedClient = 97,
}

impl DsErrorCode {
    /// Every code, in number order (the spec's table is checked against this).
    pub const ALL: &'static [DsErrorCode] = &[
        Self::MalformedMessage,
        Self::UnsupportedVersion,
        Self::InternalError,
        Self::UnsupportedOperation,
        Self::RateLimited,
        Self::WrongAuthType,
        Self::InvalidClientSignature,
        Self::UnknownSender,
        Self::SenderMismatch,
        Self::Unauthorized,
        Self::StaleRequest,
        Self::ReplayedRequest,
        Self::InvalidRequestSignature,
        Self::RegistrationRefused,
        Self::GroupNotFound,
        Self::WrongGroup,
        Self::GroupIdInUse,
        Self::InvalidGroupId,
        Self::InvalidLeafNode,
        Self::InvalidGroupInfo,
        Self::MissingExternalSender,
        Self::NotPublicMessage,
        Self::WrongContentType,
        Self::WrongEpoch,
        Self::InvalidCommit,
        Self::InvalidProposal,
        Self::NotPrivateMessage,
        Self::InvalidPartialGroupInfo,
        Self::ProposalNotAllowed,
        Self::AddsExistingUser,
        Self::ConnectionKeyPackageNotAllowed,
        Self::WelcomeMismatch,
        Self::InvalidWelcome,
        Self::IncompleteUserRemoval,
        Self::AddsForeignClient,
        Self::RemovesForeignClient,
        Self::NotSelfRemove,
        Self::InvalidUpdate,
        Self::InvalidExternalJoin,
        Self::ExternalJoinNotAllowed,
        Self::IncompleteGroupDeletion,
        Self::CredentialChanged,
        Self::InvalidCredential,
        Self::DuplicateClient,
        Self::NotAMember,
        Self::NoWelcomeInfo,
        Self::CorruptState,
        Self::UnknownClient,
        Self::NoKeyPackage,
        Self::ClientIdInUse,
        Self::InvalidKeyPackage,
        Self::WrongDestination,
        Self::UnknownSigningKey,
        Self::InvalidDsSignature,
        Self::NotOwningDomain,
        Self::NotLocalRecipient,
        Self::ConflictingEntry,
        Self::PeerUnavailable,
        Self::UnvouchedClient,
    ];

    /// The number on the wire.
    pub fn number(self) -> u16 {
        self as u16
    }
}

/// A rejection: its code and a sentence that says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct DsError {
    /// What kind of rejection.
    pub code: DsErrorCode,
    detail: Bytes<MAX_ERROR_DETAIL>,
}

impl DsError {
    /// Builds an error; the detail is cut to [`MAX_ERROR_DETAIL`] bytes on a char boundary.
    pub fn new(code: DsErrorCode, detail: impl Into<String>) -> Self {
        let mut detail: String = detail.into();
        if detail.len() > MAX_ERROR_DETAIL {
            let mut cut = MAX_ERROR_DETAIL;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
        }
        let detail = Bytes::new(detail.into_bytes()).unwrap_or_default();
        Self { code, detail }
    }

    /// The human-readable reason (lossy if a peer sent invalid UTF-8).
    pub fn detail(&self) -> String {
        String::from_utf8_lossy(self.detail.as_slice()).into_owned()
    }
}

impl std::fmt::Display for DsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} ({}): {}",
            self.code,
            self.code.number(),
            self.detail()
        )
    }
}

impl std::error::Error for DsError {}

#[cfg(test)]
mod tests {
    use super::*;
    use tls_codec::{Deserialize as _, Serialize as _};

    #[test]
    fn codes_are_unique_and_sorted() {
        let nums: Vec<u16> = DsErrorCode::ALL.iter().map(|c| c.number()).collect();
        let mut sorted = nums.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(nums, sorted);
    }

    #[test]
    fn every_code_round_trips() {
        for code in DsErrorCode::ALL {
            let bytes = code.tls_serialize_detached().unwrap();
            assert_eq!(DsErrorCode::tls_deserialize_exact(&bytes).unwrap(), *code);
        }
        assert!(DsErrorCode::tls_deserialize_exact([0x00, 0x00]).is_err());
    }

    #[test]
    fn long_detail_is_cut_on_a_char_boundary() {
        let e = DsError::new(DsErrorCode::InternalError, "é".repeat(1000));
        assert!(e.detail().len() <= MAX_ERROR_DETAIL);
        assert!(e.detail().chars().all(|c| c == 'é'));
    }
}
