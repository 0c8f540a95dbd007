//! Two domains federated end to end: real `mimi-ds` processes for
//! `ds-a.test` and `ds-b.test` (and a hostile `ds-c.test`) on loopback, with
//! certificates of a test CA, talking to each other over verified HTTPS.
//! Clients of both domains are real openmls members: they register at their
//! home DS, carry its voucher in their leaves, read their queues from their
//! home DS only and send group operations to the owning DS. A small TCP
//! proxy between the DSs lets tests stall, slow down or re-point the link.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

#[path = "../storage/support.rs"]
#[allow(dead_code, unused_macros, unused_imports)]
mod support;

#[path = "../transport/support.rs"]
#[allow(dead_code)]
mod transport;

#[path = "../../../ds-core/tests/common/mod.rs"]
mod common;

#[path = "../queue/qs.rs"]
#[allow(dead_code)]
mod qs;

#[path = "../directory/packages.rs"]
#[allow(dead_code)]
mod packages;

#[path = "../cluster/process.rs"]
#[allow(dead_code)]
mod process;

#[path = "../push/ws.rs"]
#[allow(dead_code)]
mod ws;

mod forge;
mod listen;
mod member;
mod net;
mod node;
mod pki;
mod poll;
mod proxy;
mod traffic;
mod tune;
mod world;

mod faults;
mod hostile;
mod lifecycle;
mod rotation;

mod batches;
mod dead_letters;
mod replicas;
