//! Producing what other DSes verify: the signature of a `DSFanoutRequest`
//! and the `ClientVoucher`s the home DS gives its clients. Verification is
//! ds-core's (`ds_core::federation`); this module must not check anything.

use ds_core::wire::{
    Bytes, ClientId, ClientVoucher, Domain, DsFanoutRequest, IdError, SIGNATURE_SCHEME_ED25519,
    ShortBytes,
};

use crate::keyring::DsKey;

/// Why a voucher could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The client id's domain is not a valid domain (cannot happen for a
    /// validated `ClientId`; typed rather than assumed).
    #[error("the client's domain: {0}")]
    Domain(#[from] IdError),
    /// A field exceeds its wire bound (the signature key is too long).
    #[error("voucher field: {0}")]
    Encode(#[from] tls_codec::Error),
}

/// Signs `request` for this attempt with `key`: sets `key_id`, then the
/// Ed25519 signature over `request.signed_content()`. The caller sets the
/// timestamp (and every other field) first.
pub fn sign_fanout(key: &DsKey, request: &mut DsFanoutRequest) -> Result<(), tls_codec::Error> {
    request.key_id = ShortBytes::new(key.key_id().to_vec())?;
    let content = request.signed_content()?;
    request.signature = ShortBytes::new(key.sign(&content).to_vec())?;
    Ok(())
}

/// A voucher, signed by `key`, that `client_id` (a client of this DS's
/// domain) registered the Ed25519 `signature_key`, valid until `not_after`.
pub fn issue_voucher(
    key: &DsKey,
    client_id: &ClientId,
    signature_key: &[u8],
    not_after: u64,
) -> Result<ClientVoucher, IssueError> {
    let mut voucher = ClientVoucher {
        issuer: Domain::new(client_id.domain())?,
        key_id: ShortBytes::new(key.key_id().to_vec())?,
        client_id: client_id.clone(),
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        signature_key: Bytes::new(signature_key.to_vec())?,
        not_after,
        signature: ShortBytes::default(),
    };
    let content = voucher.signed_content()?;
    voucher.signature = ShortBytes::new(key.sign(&content).to_vec())?;
    Ok(voucher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::DsKeyring;
    use ds_core::federation::{check_voucher, verify_fanout_signature};
    use ds_core::wire::{
        DsErrorCode, DsFanoutEntry, FanoutEntryKind, GroupId, List, MlsBytes, ProtocolVersion,
    };

    const GRACE: u64 = 7 * 86_400;

    fn ring() -> (tempfile::TempDir, DsKeyring) {
        let dir = tempfile::tempdir().unwrap();
        let ring = DsKeyring::load_or_create(&dir.path().join("keys"), None, 1_000).unwrap();
        (dir, ring)
    }

    fn request() -> DsFanoutRequest {
        let sender = Domain::new("a.example").unwrap();
        DsFanoutRequest {
            version: ProtocolVersion::V1,
            sender: sender.clone(),
            recipient_domain: Domain::new("b.example").unwrap(),
            key_id: ShortBytes::default(),
            timestamp: 1_000,
            entries: List::new(vec![DsFanoutEntry {
                group_id: GroupId::from_parts("g", &sender).unwrap(),
                sequence: 3,
                kind: FanoutEntryKind::GroupMessage,
                recipients: List::new(vec![]).unwrap(),
                mls_message: MlsBytes::new(b"mls".to_vec()).unwrap(),
            }])
            .unwrap(),
            signature: ShortBytes::default(),
        }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, ds_core::wire::DsError>) -> DsErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn fanout_signature_verifies_with_the_published_keys() {
        let (_dir, ring) = ring();
        let mut req = request();
        sign_fanout(&ring.current(), &mut req).unwrap();
        assert_eq!(req.key_id.as_slice(), ring.current().key_id());
        verify_fanout_signature(&req, &ring.published(1_000, GRACE), 1_000).unwrap();
    }

    #[test]
    fn tampered_fanout_is_refused() {
        let (_dir, ring) = ring();
        let keys = ring.published(1_000, GRACE);
        let mut signed = request();
        sign_fanout(&ring.current(), &mut signed).unwrap();

        let mut other = signed.clone();
        other.recipient_domain = Domain::new("c.example").unwrap();
        assert_eq!(
            code(verify_fanout_signature(&other, &keys, 1_000)),
            DsErrorCode::InvalidDsSignature
        );
        let mut other = signed.clone();
        other.timestamp += 1;
        assert_eq!(
            code(verify_fanout_signature(&other, &keys, 1_000)),
            DsErrorCode::InvalidDsSignature
        );
        let mut other = signed.clone();
        other.entries = List::new(vec![]).unwrap();
        assert_eq!(
            code(verify_fanout_signature(&other, &keys, 1_000)),
            DsErrorCode::InvalidDsSignature
        );
        let mut other = signed;
        other.key_id = ShortBytes::new(vec![0; 8]).unwrap();
        assert_eq!(
            code(verify_fanout_signature(&other, &keys, 1_000)),
            DsErrorCode::UnknownSigningKey
        );
    }

    #[test]
    fn retired_key_signs_until_its_grace_ends() {
        let (_dir, ring) = ring();
        let old = ring.current();
        let mut req = request();
        sign_fanout(&old, &mut req).unwrap();
        ring.rotate(2_000).unwrap();
        let within = 2_000 + GRACE;
        verify_fanout_signature(&req, &ring.published(within, GRACE), within).unwrap();
        let after = within + 1;
        assert_eq!(
            code(verify_fanout_signature(
                &req,
                &ring.published(after, GRACE),
                after
            )),
            DsErrorCode::UnknownSigningKey
        );
        // Even a stale key list (still listing it) refuses it after not_after.
        assert_eq!(
            code(verify_fanout_signature(
                &req,
                &ring.published(within, GRACE),
                after
            )),
            DsErrorCode::UnknownSigningKey
        );
    }

    #[test]
    fn voucher_is_accepted_with_the_published_keys() {
        let (_dir, ring) = ring();
        let client = ClientId::new("alice@a.example/phone").unwrap();
        let v = issue_voucher(&ring.current(), &client, &[9; 32], 5_000).unwrap();
        assert_eq!(v.issuer.as_str(), "a.example");
        assert_eq!(v.signature_scheme, 0x0807);
        let keys = ring.published(1_000, GRACE);
        check_voucher(&v, client.as_str(), &[9; 32], &keys, 1_000).unwrap();
    }

    #[test]
    fn bad_vouchers_are_refused() {
        let (_dir, ring) = ring();
        let client = ClientId::new("alice@a.example/phone").unwrap();
        let keys = ring.published(1_000, GRACE);
        let v = issue_voucher(&ring.current(), &client, &[9; 32], 5_000).unwrap();
        let refused = |v: &ClientVoucher, sig_key: &[u8], keys: &[_], now| {
            code(check_voucher(v, client.as_str(), sig_key, keys, now))
                == DsErrorCode::UnvouchedClient
        };
        assert!(refused(&v, &[8; 32], &keys, 1_000), "other signature key");
        assert!(refused(&v, &[9; 32], &keys, 5_001), "expired");
        let mut t = v.clone();
        t.not_after = 9_000;
        assert!(refused(&t, &[9; 32], &keys, 1_000), "tampered not_after");
        let mut t = v.clone();
        t.key_id = ShortBytes::new(vec![1; 8]).unwrap();
        assert!(refused(&t, &[9; 32], &keys, 1_000), "unknown key id");
        // Signed by a key retired longer than the grace.
        ring.rotate(1_100).unwrap();
        let now = 1_100 + GRACE + 1;
        assert!(refused(&v, &[9; 32], &ring.published(now, GRACE), now));
    }
}
