//! Registration tokens: the operator hands a client a random token; storage
//! keeps only its SHA-256, so a leaked database does not leak usable tokens.

use openmls_traits::crypto::OpenMlsCrypto;
use openmls_traits::random::OpenMlsRand;
use openmls_traits::types::HashType;

use ds_core::group::EngineContext;

/// Bytes of randomness in a token (printed as 64 hex digits).
const TOKEN_BYTES: usize = 32;

/// A fresh token as the operator sees it (hex text); clients send its UTF-8
/// bytes as `registration_token`.
pub fn new_token(ctx: &EngineContext) -> Option<String> {
    let random = ctx.crypto().random_vec(TOKEN_BYTES).ok()?;
    Some(random.iter().map(|b| format!("{b:02x}")).collect())
}

/// What storage keeps of a token: SHA-256 of the bytes the client sends.
pub fn token_hash(ctx: &EngineContext, token: &[u8]) -> Option<Vec<u8>> {
    ctx.crypto().hash(HashType::Sha2_256, token).ok()
}
