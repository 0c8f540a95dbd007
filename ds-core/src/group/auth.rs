//! `ClientSignature` verification against the sender's leaf key.

use openmls::group::PublicGroup;
use openmls::prelude::{LeafNodeIndex, OpenMlsCrypto, SignContent};
use tls_codec::Serialize;

use super::context::EngineContext;
use crate::wire::{
    CLIENT_SIGNATURE_LABEL, ClientSignature, DsAuthData, DsError, DsErrorCode, DsRequest,
    client_signature_tbs,
};

/// The bytes a client signs (and the DS verifies) for `ClientSignature`:
/// `SignContent { "MLS 1.0 " + CLIENT_SIGNATURE_LABEL, ClientSignatureTBS }`.
pub fn client_signature_content(
    request: &DsRequest,
    sender_index: u32,
) -> Result<Vec<u8>, DsError> {
    let tbs = client_signature_tbs(request.version, &request.body, sender_index)
        .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))?;
    SignContent::new(CLIENT_SIGNATURE_LABEL, tbs.into())
        .tls_serialize_detached()
        .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
}

/// The request's `ClientSignature`, or `WrongAuthType`.
pub(crate) fn require_client_signature(request: &DsRequest) -> Result<&ClientSignature, DsError> {
    match &request.auth {
        DsAuthData::ClientSignature(cs) => Ok(cs),
        DsAuthData::Anonymous => Err(DsError::new(
            DsErrorCode::WrongAuthType,
            format!(
                "{} requires ClientSignature authentication",
                request.body.operation().name()
            ),
        )),
    }
}

/// Refuses anything but `Anonymous`.
pub(crate) fn require_anonymous(request: &DsRequest) -> Result<(), DsError> {
    match &request.auth {
        DsAuthData::Anonymous => Ok(()),
        DsAuthData::ClientSignature(_) => Err(DsError::new(
            DsErrorCode::WrongAuthType,
            format!(
                "{} is authenticated by its MLS message; use Anonymous",
                request.body.operation().name()
            ),
        )),
    }
}

/// Verifies the request's `ClientSignature` with the key of the member at
/// `sender_index` in `group`, returning that leaf index.
pub(crate) fn verify_member_signature(
    ctx: &EngineContext,
    group: &PublicGroup,
    request: &DsRequest,
) -> Result<LeafNodeIndex, DsError> {
    let cs = require_client_signature(request)?;
    let index = LeafNodeIndex::new(cs.sender_index);
    let leaf = group.leaf(index).ok_or_else(|| {
        DsError::new(
            DsErrorCode::UnknownSender,
            format!("no member at leaf {}", cs.sender_index),
        )
    })?;
    verify_with_key(ctx, group, request, cs, leaf.signature_key().as_slice())?;
    Ok(index)
}

/// Verifies `cs` over `request` with the raw public key `key`.
pub(crate) fn verify_with_key(
    ctx: &EngineContext,
    group: &PublicGroup,
    request: &DsRequest,
    cs: &ClientSignature,
    key: &[u8],
) -> Result<(), DsError> {
    let content = client_signature_content(request, cs.sender_index)?;
    ctx.crypto()
        .verify_signature(
            group.ciphersuite().signature_algorithm(),
            &content,
            key,
            cs.signature.as_slice(),
        )
        .map_err(|_| {
            DsError::new(
                DsErrorCode::InvalidClientSignature,
                format!(
                    "ClientSignature of leaf {} does not verify",
                    cs.sender_index
                ),
            )
        })
}
