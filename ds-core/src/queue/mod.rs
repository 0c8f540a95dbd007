//! The queue service's protocol rules (spec §13), apart from storage: how a
//! queue request (and a DS request with `RegisteredClient` auth, spec §7.4,
//! or `VouchedClient` auth, spec §7.5) is authenticated and which published key packages are accepted. The
//! server supplies the registered key, the clock and the nonce store; this
//! module decides.

mod auth;
mod key_package;
mod registered;
mod vouched;

pub use auth::{
    MAX_NONCE_LEN, MIN_NONCE_LEN, QsAuthError, check_nonce_and_freshness, qs_signature_content,
    sign_qs_request, verify_qs_request,
};
pub use key_package::{ValidatedKeyPackage, validate_key_package};
pub use registered::{
    registered_client_content, sign_registered_request, verify_registered_client,
};
pub use vouched::{sign_vouched_request, verify_vouched_client, vouched_client_content};
