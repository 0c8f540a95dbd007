//! The federation conformance suite: black-box scenarios against running DS
//! deployments of two domains, over the network only.
//!
//! Not built yet: this crate is the subject of issue 6.
