//! `ClientSignature` verification against the sender's leaf key, and which
//! operations accept `RegisteredClient` and `VouchedClient` authentication.

use openmls::group::PublicGroup;
use openmls::prelude::{LeafNodeIndex, OpenMlsCrypto, SignContent};
use tls_codec::Serialize;

use super::context::EngineContext;
use crate::wire::{
    CLIENT_SIGNATURE_LABEL, ClientId, ClientSignature, DsAuthData, DsError, DsErrorCode, DsRequest,
    JOINER_SIGNATURE_LABEL, Operation, RegisteredClientSignature, ShortBytes,
    VouchedClientSignature, client_signature_tbs, joiner_signature_tbs,
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

/// The bytes a joiner signs for `JoinerSignature`:
/// `SignContent { "MLS 1.0 " + JOINER_SIGNATURE_LABEL, JoinerSignatureTBS }`.
pub fn joiner_signature_content(
    request: &DsRequest,
    key_package_ref: &ShortBytes,
) -> Result<Vec<u8>, DsError> {
    let tbs = joiner_signature_tbs(request.version, &request.body, key_package_ref)
        .map_err(|e| DsError::new(DsErrorCode::MalformedMessage, e.to_string()))?;
    SignContent::new(JOINER_SIGNATURE_LABEL, tbs.into())
        .tls_serialize_detached()
        .map_err(|e| DsError::new(DsErrorCode::InternalError, e.to_string()))
}

/// The request's `ClientSignature`, or `WrongAuthType`.
pub(crate) fn require_client_signature(request: &DsRequest) -> Result<&ClientSignature, DsError> {
    match &request.auth {
        DsAuthData::ClientSignature(cs) => Ok(cs),
        _ => Err(DsError::new(
            DsErrorCode::WrongAuthType,
            format!(
                "{} requires ClientSignature authentication",
                request.body.operation().name()
            ),
        )),
    }
}

/// Whether `op` accepts `RegisteredClient` authentication (spec §7.3):
/// `external_commit_info` requires it; the key-package fetches accept it
/// besides `Anonymous`; every other operation refuses it.
pub fn accepts_registered_client(op: Operation) -> bool {
    matches!(
        op,
        Operation::ExternalCommitInfo
            | Operation::KeyPackages
            | Operation::ConnectionKeyPackages
            | Operation::UserKeyPackages
    )
}

/// The request's `RegisteredClient` authentication, if it carries one and
/// its operation accepts it; `WrongAuthType` if the operation does not. A
/// DS checks this before verifying the signature, so that a request refused
/// anyway records no nonce.
pub fn registered_client_auth(
    request: &DsRequest,
) -> Result<Option<&RegisteredClientSignature>, DsError> {
    match &request.auth {
        DsAuthData::RegisteredClient(rc) => {
            let op = request.body.operation();
            if accepts_registered_client(op) {
                Ok(Some(rc))
            } else {
                Err(DsError::new(
                    DsErrorCode::WrongAuthType,
                    format!(
                        "{} does not accept RegisteredClient authentication",
                        op.name()
                    ),
                ))
            }
        }
        _ => Ok(None),
    }
}

/// Whether `op` accepts `VouchedClient` authentication (spec §7.3): only
/// `external_commit_info`, for clients of other domains.
pub fn accepts_vouched_client(op: Operation) -> bool {
    op == Operation::ExternalCommitInfo
}

/// The request's `VouchedClient` authentication, if it carries one and its
/// operation accepts it; `WrongAuthType` if the operation does not. Like
/// [`registered_client_auth`], checked before any signature.
pub fn vouched_client_auth(
    request: &DsRequest,
) -> Result<Option<&VouchedClientSignature>, DsError> {
    match &request.auth {
        DsAuthData::VouchedClient(vc) => {
            let op = request.body.operation();
            if accepts_vouched_client(op) {
                Ok(Some(vc))
            } else {
                Err(DsError::new(
                    DsErrorCode::WrongAuthType,
                    format!("{} does not accept VouchedClient authentication", op.name()),
                ))
            }
        }
        _ => Ok(None),
    }
}

/// The client a `RegisteredClient` or `VouchedClient` request was verified
/// for by the caller: the request must carry one of them (else
/// `WrongAuthType`) and the caller's `requester` must be the client it names
/// (else `Unauthorized`: the caller did not verify it).
pub(crate) fn require_verified_client<'a>(
    request: &DsRequest,
    requester: Option<&'a ClientId>,
) -> Result<&'a ClientId, DsError> {
    let (named, kind) = match &request.auth {
        DsAuthData::RegisteredClient(rc) => (&rc.client_id, "RegisteredClient"),
        DsAuthData::VouchedClient(vc) => (&vc.voucher.client_id, "VouchedClient"),
        _ => {
            return Err(DsError::new(
                DsErrorCode::WrongAuthType,
                format!(
                    "{} requires RegisteredClient or VouchedClient authentication",
                    request.body.operation().name()
                ),
            ));
        }
    };
    match requester {
        Some(requester) if requester == named => Ok(requester),
        _ => Err(DsError::new(
            DsErrorCode::Unauthorized,
            format!("the {kind} signature of {named} was not verified"),
        )),
    }
}

/// Refuses anything but `Anonymous`.
pub(crate) fn require_anonymous(request: &DsRequest) -> Result<(), DsError> {
    match &request.auth {
        DsAuthData::Anonymous => Ok(()),
        _ => Err(DsError::new(
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
fn verify_with_key(
    ctx: &EngineContext,
    group: &PublicGroup,
    request: &DsRequest,
    cs: &ClientSignature,
    key: &[u8],
) -> Result<(), DsError> {
    let content = client_signature_content(request, cs.sender_index)?;
    verify_content(ctx, group, &content, key, cs.signature.as_slice()).map_err(|_| {
        DsError::new(
            DsErrorCode::InvalidClientSignature,
            format!(
                "ClientSignature of leaf {} does not verify",
                cs.sender_index
            ),
        )
    })
}

/// Verifies a labeled signature over `content` with the raw public key `key`.
pub(crate) fn verify_content(
    ctx: &EngineContext,
    group: &PublicGroup,
    content: &[u8],
    key: &[u8],
    signature: &[u8],
) -> Result<(), DsError> {
    ctx.crypto()
        .verify_signature(
            group.ciphersuite().signature_algorithm(),
            content,
            key,
            signature,
        )
        .map_err(|_| {
            DsError::new(
                DsErrorCode::InvalidClientSignature,
                "signature does not verify",
            )
        })
}
