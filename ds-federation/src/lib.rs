//! DS-to-DS: the DS's signing identity and key rotation, signing and verifying
//! `DSFanoutRequest`s, fetching and caching other domains' keys over
//! authenticated HTTPS, domain resolution and the fan-out HTTP client.
//!
//! So far: [`identity`], the persisted Ed25519 key. The rest is issue 4.

pub mod identity;
