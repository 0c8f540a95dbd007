//! Strict parsing of the MLS structures carried in our messages.
//!
//! Everything here turns untrusted bytes into openmls's untrusted `*In`
//! types, rejecting trailing bytes; validation proper happens in the engine.

use openmls::prelude::{
    MlsMessageBodyIn, MlsMessageIn, PrivateMessageIn, PublicMessageIn, Welcome,
};
use tls_codec::Deserialize;

use crate::wire::{DsError, DsErrorCode};

/// Parses an MLSMessage, requiring that it spans all of `bytes`.
pub(crate) fn parse_message(bytes: &[u8], what: &str) -> Result<MlsMessageIn, DsError> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| {
        DsError::new(
            DsErrorCode::MalformedMessage,
            format!("{what} is not a well-formed MLSMessage: {e}"),
        )
    })
}

/// The PublicMessage of a handshake message; anything else is refused.
pub(crate) fn public_message(bytes: &[u8], what: &str) -> Result<PublicMessageIn, DsError> {
    match parse_message(bytes, what)?.extract() {
        MlsMessageBodyIn::PublicMessage(m) => Ok(m),
        MlsMessageBodyIn::PrivateMessage(_) => Err(DsError::new(
            DsErrorCode::NotPublicMessage,
            format!("{what} must be a PublicMessage, not a PrivateMessage"),
        )),
        _ => Err(DsError::new(
            DsErrorCode::NotPublicMessage,
            format!("{what} must be a PublicMessage"),
        )),
    }
}

/// The PrivateMessage of an application message; anything else is refused.
pub(crate) fn private_message(bytes: &[u8]) -> Result<PrivateMessageIn, DsError> {
    match parse_message(bytes, "application message")?.extract() {
        MlsMessageBodyIn::PrivateMessage(m) => Ok(m),
        _ => Err(DsError::new(
            DsErrorCode::NotPrivateMessage,
            "application messages must be PrivateMessages",
        )),
    }
}

/// The Welcome inside an MLSMessage.
pub(crate) fn welcome(bytes: &[u8]) -> Result<Welcome, DsError> {
    match MlsMessageIn::tls_deserialize_exact(bytes).map(MlsMessageIn::extract) {
        Ok(MlsMessageBodyIn::Welcome(w)) => Ok(w),
        Ok(_) => Err(DsError::new(
            DsErrorCode::InvalidWelcome,
            "a welcomes entry is not a Welcome message",
        )),
        Err(e) => Err(DsError::new(
            DsErrorCode::InvalidWelcome,
            format!("a welcomes entry is not a well-formed MLSMessage: {e}"),
        )),
    }
}
