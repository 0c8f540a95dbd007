//! What one DS checks of another domain's DS (spec §11): fan-out signatures
//! and client vouchers, against the signing keys that domain publishes with
//! `signature_public_key`. Pure functions: fetching and caching those keys is
//! ds-federation's job; the caller passes them in with the time.

mod keys;
mod signature;
mod voucher;

pub use keys::{VoucherKeys, find_key};
pub use signature::{fanout_signing_content, verify_fanout_signature};
pub use voucher::{check_voucher, voucher_signing_content};
