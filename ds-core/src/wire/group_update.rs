//! `MLSGroupUpdate` and `PartialGroupInfo`: a commit plus what the DS needs
//! to rebuild the signed GroupInfo of the epoch it creates.

use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::codec::Bytes;
use super::limits::{MAX_GROUP_INFO_EXTENSIONS, MAX_MLS_MESSAGE, MAX_SIGNATURE};

/// An MLS structure carried as `opaque<V>` holding its RFC 9420 encoding.
pub type MlsBytes = Bytes<MAX_MLS_MESSAGE>;

/// The parts of the new epoch's GroupInfo that only the committer can make.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct PartialGroupInfo {
    /// TLS encoding of `Extension group_info_extensions<V>`.
    pub group_info_extensions: Bytes<MAX_GROUP_INFO_EXTENSIONS>,
    /// The committer's signature over the GroupInfoTBS of the new epoch.
    pub signature: Bytes<MAX_SIGNATURE>,
}

/// A commit with its PartialGroupInfo.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct MlsGroupUpdate {
    /// An MLSMessage holding a PublicMessage commit.
    pub commit: MlsBytes,
    /// The GroupInfo parts for the epoch the commit creates.
    pub partial_group_info: PartialGroupInfo,
}
