//! Reading the group id and epoch from an MLSMessage without parsing the rest,
//! so a DS can route a request to its group before any cryptography.

use std::io::Read;

use tls_codec::Deserialize;

use super::codec::Bytes;

/// The routing fields at the start of a PublicMessage or PrivateMessage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlsHeader {
    /// `WireFormat` (1 PublicMessage, 2 PrivateMessage).
    pub wire_format: u16,
    /// The MLS group id bytes.
    pub group_id: Vec<u8>,
    /// The epoch.
    pub epoch: u64,
}

/// RFC 9420 `mls10`.
const MLS10: u16 = 1;
/// RFC 9420 wire formats that carry group content.
pub const WIRE_FORMAT_PUBLIC: u16 = 1;
/// PrivateMessage.
pub const WIRE_FORMAT_PRIVATE: u16 = 2;

/// Reads version, wire format, group id and epoch; `None` unless the message is
/// an MLS 1.0 PublicMessage or PrivateMessage with a well-formed header.
pub fn peek_header(mut message: &[u8]) -> Option<MlsHeader> {
    let version = u16::tls_deserialize(&mut message).ok()?;
    let wire_format = u16::tls_deserialize(&mut message).ok()?;
    if version != MLS10
        || !(wire_format == WIRE_FORMAT_PUBLIC || wire_format == WIRE_FORMAT_PRIVATE)
    {
        return None;
    }
    let group_id = Bytes::<255>::tls_deserialize(&mut message).ok()?;
    let mut epoch = [0u8; 8];
    message.read_exact(&mut epoch).ok()?;
    Some(MlsHeader {
        wire_format,
        group_id: group_id.into_vec(),
        epoch: u64::from_be_bytes(epoch),
    })
}
