//! Alters the MLS bytes of a member's signed update commit so that it stays
//! well-formed but no longer verifies: a byte of the path's key, or of the
//! MLS signature, flipped.

use ds_core::wire::{DsRequest, DsRequestBody, MlsBytes};

use crate::scenario::{Context as _, Failure, ensure};

/// Reads an MLS variable-length integer at `*at` (RFC 9420 §2.1.2).
fn varint(bytes: &[u8], at: &mut usize) -> Result<usize, Failure> {
    let first = *bytes
        .get(*at)
        .ok_or_else(|| Failure("commit ends early".into()))?;
    let len = 1usize << (first >> 6);
    ensure!(len <= 4, "commit: invalid varint");
    let mut value = usize::from(first & 0x3f);
    for i in 1..len {
        let b = *bytes
            .get(*at + i)
            .ok_or_else(|| Failure("commit ends early".into()))?;
        value = (value << 8) | usize::from(b);
    }
    *at += len;
    Ok(value)
}

/// Flips a byte of the new leaf's encryption key in the update path of a
/// member's PublicMessage commit (MLSMessage: version, wire format,
/// group_id, epoch, sender, authenticated_data, content type, commit with
/// no proposals, then the path): still well-formed, no longer what was
/// signed.
pub(super) fn spoil_path(commit: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut at = 4; // version, wire_format
    let group_id = varint(commit, &mut at)?;
    at += group_id + 8; // group id, epoch
    ensure!(
        commit.get(at) == Some(&1),
        "commit: the sender is not a member"
    );
    at += 5; // sender type, leaf index
    let aad = varint(commit, &mut at)?;
    at += aad;
    ensure!(
        commit.get(at) == Some(&3),
        "commit: content type is not commit"
    );
    at += 1;
    let proposals = varint(commit, &mut at)?;
    at += proposals;
    ensure!(commit.get(at) == Some(&1), "commit: no update path");
    at += 1;
    let key = varint(commit, &mut at)?;
    ensure!(
        key == 32,
        "commit: the path's encryption key is {key} bytes"
    );
    let mut spoiled = commit.to_vec();
    let byte = spoiled
        .get_mut(at + 5)
        .ok_or_else(|| Failure("commit ends early".into()))?;
    *byte ^= 0x01;
    Ok(spoiled)
}

/// Flips a byte of the signature of a member's PublicMessage commit, which
/// ends in signature<V> (64 bytes), confirmation_tag<V> and
/// membership_tag<V> (32 bytes each).
pub(super) fn spoil_signature(commit: &[u8]) -> Result<Vec<u8>, Failure> {
    let n = commit.len();
    ensure!(
        n > 132
            && commit.get(n - 33) == Some(&0x20)
            && commit.get(n - 66) == Some(&0x20)
            && commit.get(n - 132..n - 130) == Some(&[0x40, 0x40][..]),
        "the commit does not end in a signature and two tags"
    );
    let mut spoiled = commit.to_vec();
    if let Some(byte) = spoiled.get_mut(n - 100) {
        *byte ^= 0x01;
    }
    Ok(spoiled)
}

/// Alters a commit's MLS bytes.
pub(super) type Spoiler = fn(&[u8]) -> Result<Vec<u8>, Failure>;

/// The update commit inside a crafted `update_client`, altered by `spoil`.
pub(super) fn altered_update(request: DsRequest, spoil: Spoiler) -> Result<DsRequestBody, Failure> {
    match request.body {
        DsRequestBody::UpdateClient(mut update) => {
            let commit = spoil(update.group_update.commit.as_slice())?;
            update.group_update.commit = MlsBytes::new(commit).ctx("commit")?;
            Ok(DsRequestBody::UpdateClient(update))
        }
        other => Err(Failure(format!("crafted a {:?}", other.operation()))),
    }
}
