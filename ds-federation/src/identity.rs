//! The DS's own Ed25519 signing key: created on first start, persisted, and
//! used as the groups' external-sender key (and, with the federation work,
//! to sign fan-out requests).
//!
//! As an openmls [`Signer`](openmls_traits::signatures::Signer) it signs the
//! DS's own Remove proposals. Groups list it in `external_senders` with the
//! raw 32-byte [`DsIdentity::public_key`] (exactly what the server hands to
//! `ds_core::group::EngineContext::new`), so openmls verifies those proposals
//! with this key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey};
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;

/// Why the identity could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing the key file failed.
    #[error("DS signing key {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file does not hold a 32-byte Ed25519 seed.
    #[error("DS signing key {0} is not a 32-byte Ed25519 seed")]
    Malformed(PathBuf),
    /// The system has no randomness to make a key with.
    #[error("no randomness to create the DS signing key: {0}")]
    Random(getrandom::Error),
}

/// The DS's signing key.
pub struct DsIdentity {
    key: SigningKey,
}

impl std::fmt::Debug for DsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsIdentity")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl DsIdentity {
    /// Loads the seed at `path`, or creates one there (mode 0600) on first start.
    pub fn load_or_create(path: &Path) -> Result<Self, IdentityError> {
        let io = |source| IdentityError::Io {
            path: path.to_owned(),
            source,
        };
        match fs::read(path) {
            Ok(bytes) => {
                let seed: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| IdentityError::Malformed(path.to_owned()))?;
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::getrandom(&mut seed).map_err(IdentityError::Random)?;
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir).map_err(io)?;
                }
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(path).map_err(io)?;
                file.write_all(&seed).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(Self {
                    key: SigningKey::from_bytes(&seed),
                })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs `message` (raw Ed25519, no label: callers add their labels).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// Signs MLS content (openmls passes the labelled `SignContent` bytes) with
/// plain Ed25519, as RFC 9420 prescribes for Ed25519 ciphersuites.
impl Signer for DsIdentity {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(DsIdentity::sign(self, payload).to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/ds-signing-key");
        let first = DsIdentity::load_or_create(&path).unwrap();
        let again = DsIdentity::load_or_create(&path).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let sig = again.sign(b"x");
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&first.public_key()).unwrap();
        assert!(
            vk.verify_strict(b"x", &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok()
        );
    }

    #[test]
    fn signs_for_openmls_with_the_published_key() {
        let dir = tempfile::tempdir().unwrap();
        let identity = DsIdentity::load_or_create(&dir.path().join("k")).unwrap();
        assert_eq!(identity.signature_scheme(), SignatureScheme::ED25519);
        let signature = Signer::sign(&identity, b"mls content").unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&identity.public_key()).unwrap();
        assert!(vk.verify_strict(b"mls content", &signature).is_ok());
        assert!(vk.verify_strict(b"other content", &signature).is_err());
    }

    #[test]
    fn malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, b"short").unwrap();
        assert!(matches!(
            DsIdentity::load_or_create(&path),
            Err(IdentityError::Malformed(_))
        ));
    }
}
