//! Transitional: the pre-keyring names ds-server still uses. `DsIdentity`
//! is a [`DsKey`] read from (or created as) one seed file, without rotation.
//! Switch to [`crate::keyring::DsKeyring`] and delete this module.

use std::fs;
use std::path::Path;

pub use crate::keyring::{DsKey, IdentityError};

/// The DS's single signing key of the pre-keyring layout.
pub type DsIdentity = DsKey;

impl DsKey {
    /// Loads the seed at `path`, or creates one there (mode 0600).
    /// Transitional: use [`crate::keyring::DsKeyring::load_or_create`],
    /// which imports this file.
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
                Ok(Self::from_seed(&seed))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::getrandom(&mut seed).map_err(IdentityError::Random)?;
                let dir = path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                fs::create_dir_all(dir).map_err(io)?;
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .ok_or_else(|| IdentityError::Malformed(path.to_owned()))?;
                crate::keyring::write_atomic(dir, name, &seed)?;
                Ok(Self::from_seed(&seed))
            }
            Err(e) => Err(io(e)),
        }
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
    }
}
