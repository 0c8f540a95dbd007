//! Fan-out requests made by the test rather than by a DS: signed with a
//! DS's own keys (its keyring loaded from its data directory), with
//! another key, or tampered with — what a hostile or buggy peer could send.

use ds_core::wire::{
    ClientId, Domain, DsFanoutEntry, DsFanoutRecipient, DsFanoutRequest, FanoutEntryKind, List,
    MlsBytes, ProtocolVersion, ShortBytes,
};
use ds_federation::{DsKey, DsKeyring, sign_fanout};
use openmls::prelude::Extensions;

use crate::common::Client;
use crate::node::Node;
use crate::qs::now;

/// The keyring of a running node, read from its data directory.
pub fn keyring(node: &Node) -> DsKeyring {
    let dir = node.key_dir();
    assert!(
        dir.is_dir(),
        "{} keeps no keys at {}",
        node.domain(),
        dir.display()
    );
    DsKeyring::load_or_create(&dir, None, now()).unwrap()
}

/// A keyring no DS publishes.
pub fn stranger_keyring(dir: &std::path::Path) -> DsKeyring {
    DsKeyring::load_or_create(&dir.join("stranger-keys"), None, now()).unwrap()
}

/// A group-log entry of `group` for `recipients`.
pub fn entry(group: &str, sequence: u64, recipients: &[&str], message: &[u8]) -> DsFanoutEntry {
    DsFanoutEntry {
        group_id: ds_core::wire::GroupId::new(group).unwrap(),
        sequence,
        kind: FanoutEntryKind::GroupMessage,
        recipients: List::new(
            recipients
                .iter()
                .map(|r| DsFanoutRecipient::ClientIdentifier(ClientId::new(r).unwrap()))
                .collect(),
        )
        .unwrap(),
        mls_message: MlsBytes::new(message.to_vec()).unwrap(),
    }
}

/// An unsigned request from `sender` to `recipient` made now.
pub fn request(sender: &str, recipient: &str, entries: Vec<DsFanoutEntry>) -> DsFanoutRequest {
    DsFanoutRequest {
        version: ProtocolVersion::V1,
        sender: Domain::new(sender).unwrap(),
        recipient_domain: Domain::new(recipient).unwrap(),
        key_id: ShortBytes::default(),
        timestamp: now(),
        entries: List::new(entries).unwrap(),
        signature: ShortBytes::default(),
    }
}

/// `request` signed by `key` (which sets its key id).
pub fn signed(key: &DsKey, mut request: DsFanoutRequest) -> DsFanoutRequest {
    sign_fanout(key, &mut request).unwrap();
    request
}

/// Real MLS application messages (of a throwaway group of `author`), so
/// that a guest DS that looks at what it stores sees well-formed ones.
pub fn mls_messages(author: &str, texts: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut client = Client::new(author);
    let group = format!("scratch@{}", ClientId::new(author).unwrap().domain());
    client.create_group_with(&group, Extensions::empty());
    texts.iter().map(|t| client.message(t)).collect()
}
