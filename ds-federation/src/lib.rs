//! DS-to-DS: the DS's signing identity and key rotation, signing and verifying
//! `DSFanoutRequest`s, fetching and caching other domains' keys over
//! authenticated HTTPS, domain resolution and the fan-out HTTP client.
//!
//! Not built yet: this crate is the subject of issue 4.
