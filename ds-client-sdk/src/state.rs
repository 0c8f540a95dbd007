//! The client's state on disk: one file, `client.state`, in the client's
//! directory, holding the SDK's own records (identity, registration,
//! voucher, queue positions, events not yet taken) **and** the snapshot of
//! the openmls storage. One file, written atomically (temporary file,
//! fsync, rename, fsync of the directory), so that the MLS state and the
//! positions that say which entries it has processed can never disagree
//! after a crash: either both moved past an entry or neither did.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::Pending;

/// Name of the state file in the client's directory.
pub const STATE_FILE: &str = "client.state";
/// Version of the file's layout; another version is refused, not guessed at.
pub const STATE_FORMAT: u32 = 1;

/// Everything a client keeps between runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// The client id (`user@domain/device`).
    pub client_id: String,
    /// The public half of the client's one Ed25519 key: registered at the
    /// home DS, vouched for, and the signature key of all its leaves. The
    /// key pair itself is in the openmls storage, under this public key.
    pub signer_public: Vec<u8>,
    /// Whether the home DS accepted the registration.
    pub registered: bool,
    /// The home DS's voucher (TLS-encoded `ClientVoucher`), once fetched.
    pub voucher: Option<Vec<u8>>,
    /// Last inbox sequence number processed.
    pub inbox: u64,
    /// The groups this client is or was in, by group id.
    pub groups: BTreeMap<String, GroupRecord>,
    /// Events processed but not yet taken by the application, in order.
    pub pending: VecDeque<Pending>,
    /// The openmls storage ([`crate::provider::SdkProvider::snapshot`]).
    pub storage: Vec<(Vec<u8>, Vec<u8>)>,
}

/// What the SDK remembers of one group beyond openmls's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The group's name (from its name extension).
    pub name: String,
    /// Last log sequence number processed; 0 before the first one.
    pub last_seq: u64,
    /// Whether this client currently holds the group's MLS state.
    pub member: bool,
    /// SHA-256 of MLS messages this client sent that the log has not
    /// shown back yet: they are its own and are skipped when they arrive.
    pub sent: Vec<[u8; 32]>,
}

/// Reads the state of the client in `dir`; `None` when there is none yet.
pub fn load(dir: &Path) -> Result<Option<Saved>> {
    let path = dir.join(STATE_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(state_error(&path, e)),
    };
    let saved: Saved = postcard::from_bytes(&bytes).map_err(|e| state_error(&path, e))?;
    if saved.format != STATE_FORMAT {
        return Err(state_error(
            &path,
            format!(
                "layout version {} (this SDK reads {STATE_FORMAT})",
                saved.format
            ),
        ));
    }
    Ok(Some(saved))
}

/// Writes `saved` as the state of the client in `dir`, atomically.
pub fn store(dir: &Path, saved: &Saved) -> Result<()> {
    let path = dir.join(STATE_FILE);
    let bytes = postcard::to_stdvec(saved).map_err(|e| state_error(&path, e))?;
    let temp = dir.join(format!("{STATE_FILE}.tmp"));
    write_synced(&temp, &bytes).map_err(|e| state_error(&temp, e))?;
    fs::rename(&temp, &path).map_err(|e| state_error(&path, e))?;
    // The rename is durable only once the directory entry is.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| state_error(dir, e))
}

/// Creates the client's directory if needed.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| state_error(dir, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn state_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::State {
        path: PathBuf::from(path),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Saved {
        Saved {
            format: STATE_FORMAT,
            client_id: "alice@ds-a.example/laptop".into(),
            signer_public: vec![2; 32],
            registered: true,
            voucher: Some(vec![1, 2, 3]),
            inbox: 4,
            groups: BTreeMap::from([(
                "g@ds-a.example".to_owned(),
                GroupRecord {
                    name: "team".into(),
                    last_seq: 7,
                    member: true,
                    sent: vec![[9; 32]],
                },
            )]),
            pending: VecDeque::new(),
            storage: vec![(vec![1], vec![2])],
        }
    }

    #[test]
    fn state_round_trips_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let mut saved = sample();
        store(dir.path(), &saved).unwrap();
        saved.inbox = 5;
        store(dir.path(), &saved).unwrap();
        let loaded = load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded.inbox, 5);
        assert_eq!(loaded.groups["g@ds-a.example"].last_seq, 7);
        assert_eq!(loaded.signer_public, saved.signer_public);
        assert!(!dir.path().join(format!("{STATE_FILE}.tmp")).exists());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_fresh_client() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"\xff\xff garbage").unwrap();
        assert!(matches!(load(dir.path()), Err(Error::State { .. })));
    }
}
