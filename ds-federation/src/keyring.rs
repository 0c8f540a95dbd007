//! The DS's Ed25519 signing keys: one current key that signs, and every key
//! it ever had (retired ones keep signing the Remove proposals of groups that
//! list them in `external_senders`, so private keys are never deleted).
//!
//! Persisted as a directory of `<key_id hex>.key` files, each 48 bytes: the
//! 32-byte seed, `created` and `retired_at` (big-endian u64 Unix seconds,
//! `retired_at` 0 for the current key). Every write is atomic (temp file,
//! fsync, rename, directory fsync) and mode 0600.
//!
//! A crash inside [`DsKeyring::rotate`] between writing the new key and
//! retiring the old one leaves two current keys; loading refuses that
//! directory with [`IdentityError::CurrentKeys`] naming the files, and the
//! operator retires one by hand (or deletes the newer, never-published one).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ds_core::wire::limits::MAX_DS_KEYS;
use ds_core::wire::{Bytes, DsSigningKey, SIGNATURE_SCHEME_ED25519, ShortBytes};
use ed25519_dalek::{Signer as _, SigningKey};
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;
use sha2::{Digest, Sha256};

/// Length of a key id: the first bytes of SHA-256 of the raw public key.
pub const KEY_ID_LEN: usize = 8;

const KEY_FILE_SUFFIX: &str = ".key";
const KEY_FILE_LEN: usize = 32 + 8 + 8;

/// Why the keys could not be loaded, created or rotated.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Reading or writing a key file (or the directory) failed.
    #[error("DS signing key {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key file is not a 48-byte key record, or the legacy file not a
    /// 32-byte seed, or a key file's name is not its key's id.
    #[error("DS signing key {0} is malformed")]
    Malformed(PathBuf),
    /// The system has no randomness to make a key with.
    #[error("no randomness to create a DS signing key: {0}")]
    Random(getrandom::Error),
    /// The directory holds keys but not exactly one current key.
    #[error(
        "{dir} must hold exactly one current DS signing key (retired_at 0), found {}: {current:?}",
        current.len()
    )]
    CurrentKeys {
        /// The key directory.
        dir: PathBuf,
        /// The file names of the current keys found.
        current: Vec<String>,
    },
}

/// One Ed25519 signing key of the DS. Immutable: whether it is current or
/// retired is the keyring's business.
pub struct DsKey {
    key: SigningKey,
    key_id: [u8; KEY_ID_LEN],
}

impl std::fmt::Debug for DsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DsKey")
            .field("key_id", &hex::encode(self.key_id))
            .finish_non_exhaustive()
    }
}

impl DsKey {
    /// The key of `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = SigningKey::from_bytes(seed);
        let key_id = key_id_of(&key.verifying_key().to_bytes());
        Self { key, key_id }
    }

    /// The key id that signed messages name: SHA-256(public key)[..8].
    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    /// The raw Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// Signs `message` (plain Ed25519, no label: callers add their labels).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

/// Signs MLS content (openmls passes the labelled `SignContent` bytes) with
/// plain Ed25519, as RFC 9420 prescribes for Ed25519 ciphersuites.
impl Signer for DsKey {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        Ok(DsKey::sign(self, payload).to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

/// SHA-256(public key)[..8].
pub fn key_id_of(public_key: &[u8]) -> [u8; KEY_ID_LEN] {
    let digest = Sha256::digest(public_key);
    let mut id = [0u8; KEY_ID_LEN];
    id.copy_from_slice(&digest[..KEY_ID_LEN]);
    id
}

#[derive(Debug, Clone)]
struct Entry {
    key: Arc<DsKey>,
    created: u64,
    /// 0 while current.
    retired_at: u64,
}

#[derive(Debug)]
struct State {
    current: Entry,
    /// Every retired key, any age.
    retired: Vec<Entry>,
}

/// The DS's keys on disk and in memory. Cheap to clone; thread-safe.
#[derive(Clone)]
pub struct DsKeyring {
    dir: Arc<PathBuf>,
    state: Arc<RwLock<State>>,
}

impl std::fmt::Debug for DsKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.read();
        f.debug_struct("DsKeyring")
            .field("dir", &self.dir)
            .field("current", &state.current.key)
            .field("retired", &state.retired.len())
            .finish()
    }
}

impl DsKeyring {
    /// Loads every key in `dir`. An empty (or missing) directory gets the
    /// legacy single-seed file's key when `legacy_seed_file` names one that
    /// exists, else a new key; either is written to `dir` as current.
    pub fn load_or_create(
        dir: &Path,
        legacy_seed_file: Option<&Path>,
        now: u64,
    ) -> Result<Self, IdentityError> {
        create_private_dir(dir)?;
        let mut entries = read_dir_keys(dir)?;
        if entries.is_empty() {
            let seed = match legacy_seed_file {
                Some(path) => read_legacy_seed(path)?,
                None => None,
            };
            let seed = match seed {
                Some(seed) => seed,
                None => random_seed()?,
            };
            let entry = Entry {
                key: Arc::new(DsKey::from_seed(&seed)),
                created: now,
                retired_at: 0,
            };
            write_entry(dir, &entry)?;
            entries.push((file_name(&entry.key), entry));
        }
        let (current, retired): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|(_, e)| e.retired_at == 0);
        let mut current = current;
        if current.len() != 1 {
            return Err(IdentityError::CurrentKeys {
                dir: dir.to_owned(),
                current: current.into_iter().map(|(name, _)| name).collect(),
            });
        }
        let current = current.remove(0).1;
        let mut retired: Vec<Entry> = retired.into_iter().map(|(_, e)| e).collect();
        sort_newest_first(&mut retired);
        Ok(Self {
            dir: Arc::new(dir.to_owned()),
            state: Arc::new(RwLock::new(State { current, retired })),
        })
    }

    /// The key that signs now.
    pub fn current(&self) -> Arc<DsKey> {
        Arc::clone(&self.read().current.key)
    }

    /// The key, current or retired (however long ago), with this raw public key.
    pub fn by_public_key(&self, public_key: &[u8]) -> Option<Arc<DsKey>> {
        let state = self.read();
        std::iter::once(&state.current)
            .chain(&state.retired)
            .find(|e| e.key.public_key().as_slice() == public_key)
            .map(|e| Arc::clone(&e.key))
    }

    /// The key, current or retired (however long ago), with this key id.
    pub fn by_key_id(&self, key_id: &[u8]) -> Option<Arc<DsKey>> {
        let state = self.read();
        std::iter::once(&state.current)
            .chain(&state.retired)
            .find(|e| e.key.key_id() == key_id)
            .map(|e| Arc::clone(&e.key))
    }

    /// The public keys of every retired key, oldest retirement first: groups
    /// created before a rotation still list them as external sender.
    pub fn retired_public_keys(&self) -> Vec<[u8; 32]> {
        let state = self.read();
        let mut retired: Vec<_> = state.retired.iter().collect();
        retired.sort_by_key(|e| e.retired_at);
        retired.iter().map(|e| e.key.public_key()).collect()
    }

    /// Makes a new key current and retires the old one at `now`; both are on
    /// disk before this returns. On error nothing changed in memory.
    pub fn rotate(&self, now: u64) -> Result<Arc<DsKey>, IdentityError> {
        let mut state = self.write();
        let new = Entry {
            key: Arc::new(DsKey::from_seed(&random_seed()?)),
            created: now,
            retired_at: 0,
        };
        write_entry(&self.dir, &new)?;
        let old = Entry {
            retired_at: now.max(1),
            ..state.current.clone()
        };
        if let Err(e) = write_entry(&self.dir, &old) {
            // Best effort: without the new file the directory is as before.
            let _ = fs::remove_file(self.dir.join(file_name(&new.key)));
            return Err(e);
        }
        let key = Arc::clone(&new.key);
        state.current = new;
        state.retired.push(old);
        sort_newest_first(&mut state.retired);
        tracing::info!(key_id = %hex::encode(key.key_id()), "rotated the DS signing key");
        Ok(key)
    }

    /// What `signature_public_key` answers at `now`: the current key first
    /// (`not_after` 0), then retired keys newest first with `not_after` =
    /// retired_at + `grace_secs` while that has not passed; at most
    /// [`MAX_DS_KEYS`] keys.
    pub fn published(&self, now: u64, grace_secs: u64) -> Vec<DsSigningKey> {
        let state = self.read();
        let retired = state.retired.iter().filter_map(|e| {
            let not_after = e.retired_at.saturating_add(grace_secs);
            (not_after >= now).then_some((e, not_after))
        });
        std::iter::once((&state.current, 0))
            .chain(retired)
            .take(MAX_DS_KEYS)
            .filter_map(|(e, not_after)| signing_key(&e.key, not_after))
            .collect()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // The state is replaced whole under the lock, so a poisoned lock
        // still holds a consistent state.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn signing_key(key: &DsKey, not_after: u64) -> Option<DsSigningKey> {
    Some(DsSigningKey {
        key_id: ShortBytes::new(key.key_id().to_vec()).ok()?,
        signature_scheme: SIGNATURE_SCHEME_ED25519,
        public_key: Bytes::new(key.public_key().to_vec()).ok()?,
        not_after,
    })
}

fn sort_newest_first(retired: &mut [Entry]) {
    retired.sort_by(|a, b| {
        (b.retired_at, b.created)
            .cmp(&(a.retired_at, a.created))
            .then_with(|| a.key.key_id.cmp(&b.key.key_id))
    });
}

fn file_name(key: &DsKey) -> String {
    format!("{}{KEY_FILE_SUFFIX}", hex::encode(key.key_id()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io {
        path: path.to_owned(),
        source,
    }
}

fn random_seed() -> Result<[u8; 32], IdentityError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(IdentityError::Random)?;
    Ok(seed)
}

fn create_private_dir(dir: &Path) -> Result<(), IdentityError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// Every `*.key` file of `dir`, by file name (other files, such as temp
/// files of an interrupted write, are ignored).
fn read_dir_keys(dir: &Path) -> Result<Vec<(String, Entry)>, IdentityError> {
    let mut found = BTreeMap::new();
    for item in fs::read_dir(dir).map_err(io(dir))? {
        let item = item.map_err(io(dir))?;
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !name.ends_with(KEY_FILE_SUFFIX) || name.starts_with('.') {
            continue;
        }
        let path = item.path();
        let entry = parse_entry(&fs::read(&path).map_err(io(&path))?)
            .ok_or_else(|| IdentityError::Malformed(path.clone()))?;
        if file_name(&entry.key) != name {
            return Err(IdentityError::Malformed(path));
        }
        found.insert(name, entry);
    }
    Ok(found.into_iter().collect())
}

fn parse_entry(bytes: &[u8]) -> Option<Entry> {
    if bytes.len() != KEY_FILE_LEN {
        return None;
    }
    let seed: [u8; 32] = bytes[..32].try_into().ok()?;
    let created = u64::from_be_bytes(bytes[32..40].try_into().ok()?);
    let retired_at = u64::from_be_bytes(bytes[40..48].try_into().ok()?);
    Some(Entry {
        key: Arc::new(DsKey::from_seed(&seed)),
        created,
        retired_at,
    })
}

fn encode_entry(entry: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(KEY_FILE_LEN);
    out.extend_from_slice(&entry.key.seed());
    out.extend_from_slice(&entry.created.to_be_bytes());
    out.extend_from_slice(&entry.retired_at.to_be_bytes());
    out
}

/// The seed of the pre-keyring single-key file, if it exists.
fn read_legacy_seed(path: &Path) -> Result<Option<[u8; 32]>, IdentityError> {
    match fs::read(path) {
        Ok(bytes) => bytes
            .try_into()
            .map(Some)
            .map_err(|_| IdentityError::Malformed(path.to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_entry(dir: &Path, entry: &Entry) -> Result<(), IdentityError> {
    write_atomic(dir, &file_name(&entry.key), &encode_entry(entry))
}

/// Writes `dir/name` so that a crash leaves either the old or the new
/// content: a private temp file, fsync, rename, then fsync of the directory.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), IdentityError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    fs::rename(&tmp, &path).map_err(io(&path))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, VerifyingKey};

    const DAY: u64 = 86_400;

    fn verifies(public_key: [u8; 32], message: &[u8], signature: &[u8]) -> bool {
        let Ok(vk) = VerifyingKey::from_bytes(&public_key) else {
            return false;
        };
        let Ok(sig) = Signature::from_slice(signature) else {
            return false;
        };
        vk.verify_strict(message, &sig).is_ok()
    }

    #[test]
    fn created_once_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let first = DsKeyring::load_or_create(&keys, None, 100).unwrap();
        let again = DsKeyring::load_or_create(&keys, None, 200).unwrap();
        assert_eq!(first.current().public_key(), again.current().public_key());
        let key = again.current();
        assert_eq!(key.key_id(), &key_id_of(&key.public_key()));
        assert!(verifies(
            first.current().public_key(),
            b"x",
            &key.sign(b"x")
        ));
        let file = keys.join(format!("{}.key", hex::encode(key.key_id())));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(fs::read(&file).unwrap().len(), KEY_FILE_LEN);
    }

    #[test]
    fn imports_the_legacy_seed_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("ds-signing-key");
        let seed = [7u8; 32];
        fs::write(&legacy, seed).unwrap();
        let keys = dir.path().join("keys");
        let ring = DsKeyring::load_or_create(&keys, Some(&legacy), 5).unwrap();
        assert_eq!(
            ring.current().public_key(),
            DsKey::from_seed(&seed).public_key()
        );
        // Rotated: the legacy key is retired, not imported again.
        ring.rotate(10).unwrap();
        let again = DsKeyring::load_or_create(&keys, Some(&legacy), 20).unwrap();
        assert_ne!(
            again.current().public_key(),
            DsKey::from_seed(&seed).public_key()
        );
        assert!(
            again
                .by_public_key(&DsKey::from_seed(&seed).public_key())
                .is_some()
        );
    }

    #[test]
    fn missing_legacy_file_makes_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("absent");
        let ring = DsKeyring::load_or_create(&dir.path().join("k"), Some(&legacy), 1).unwrap();
        assert_eq!(ring.published(1, DAY).len(), 1);
    }

    #[test]
    fn malformed_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("legacy");
        fs::write(&legacy, b"short").unwrap();
        assert!(matches!(
            DsKeyring::load_or_create(&dir.path().join("a"), Some(&legacy), 1),
            Err(IdentityError::Malformed(_))
        ));
        let keys = dir.path().join("b");
        fs::create_dir(&keys).unwrap();
        fs::write(keys.join("00.key"), [0u8; KEY_FILE_LEN]).unwrap();
        assert!(matches!(
            DsKeyring::load_or_create(&keys, None, 1),
            Err(IdentityError::Malformed(_))
        ));
    }

    #[test]
    fn zero_or_two_current_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k");
        let ring = DsKeyring::load_or_create(&keys, None, 1).unwrap();
        let old = ring.current();
        ring.rotate(2).unwrap();
        // Un-retire the old key: two current keys.
        let entry = Entry {
            key: Arc::clone(&old),
            created: 1,
            retired_at: 0,
        };
        write_entry(&keys, &entry).unwrap();
        let err = DsKeyring::load_or_create(&keys, None, 3).unwrap_err();
        assert!(
            matches!(err, IdentityError::CurrentKeys { ref current, .. } if current.len() == 2)
        );
        // Retire both: none current.
        for key in fs::read_dir(&keys).unwrap() {
            let path = key.unwrap().path();
            let mut entry = parse_entry(&fs::read(&path).unwrap()).unwrap();
            entry.retired_at = 9;
            write_entry(&keys, &entry).unwrap();
        }
        let err = DsKeyring::load_or_create(&keys, None, 3).unwrap_err();
        assert!(
            matches!(err, IdentityError::CurrentKeys { ref current, .. } if current.is_empty())
        );
    }

    #[test]
    fn rotation_persists_and_publishes_within_grace() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("k");
        let ring = DsKeyring::load_or_create(&keys, None, 0).unwrap();
        let first = ring.current();
        let second = ring.rotate(1000).unwrap();
        let third = ring.rotate(2000).unwrap();
        assert_eq!(ring.current().key_id(), third.key_id());

        let published = ring.published(2500, DAY);
        let ids: Vec<&[u8]> = published.iter().map(|k| k.key_id.as_slice()).collect();
        assert_eq!(ids, [third.key_id(), second.key_id(), first.key_id()]);
        let not_after: Vec<u64> = published.iter().map(|k| k.not_after).collect();
        assert_eq!(not_after, [0, 2000 + DAY, 1000 + DAY]);
        assert!(published.iter().all(|k| k.signature_scheme == 0x0807));

        // After the first retired key's grace, only it drops out.
        let later = ring.published(1000 + DAY + 1, DAY);
        assert_eq!(later.len(), 2);
        assert_eq!(later[1].key_id.as_slice(), second.key_id());

        // Reloaded from disk: the same state.
        let reloaded = DsKeyring::load_or_create(&keys, None, 3000).unwrap();
        assert_eq!(reloaded.published(2500, DAY), published);
        // Expired keys are still found: groups may still list them.
        assert!(reloaded.by_public_key(&first.public_key()).is_some());
        assert!(reloaded.by_key_id(first.key_id()).is_some());
        assert!(reloaded.by_public_key(&[0u8; 32]).is_none());
    }

    #[test]
    fn publishes_at_most_the_wire_limit() {
        let dir = tempfile::tempdir().unwrap();
        let ring = DsKeyring::load_or_create(&dir.path().join("k"), None, 0).unwrap();
        for t in 1..=20 {
            ring.rotate(t).unwrap();
        }
        let published = ring.published(20, DAY);
        assert_eq!(published.len(), MAX_DS_KEYS);
        assert_eq!(published[0].not_after, 0);
        assert_eq!(published[1].not_after, 20 + DAY);
        assert_eq!(published[15].not_after, 6 + DAY);
    }

    #[test]
    fn rotation_is_seen_by_clones() {
        let dir = tempfile::tempdir().unwrap();
        let ring = DsKeyring::load_or_create(&dir.path().join("k"), None, 0).unwrap();
        let clone = ring.clone();
        let new = ring.rotate(5).unwrap();
        assert_eq!(clone.current().key_id(), new.key_id());
        assert!(!format!("{ring:?}").contains(&hex::encode(new.seed())));
    }

    #[test]
    fn signs_for_openmls_with_the_published_key() {
        let key = DsKey::from_seed(&[3u8; 32]);
        assert_eq!(key.signature_scheme(), SignatureScheme::ED25519);
        let signature = Signer::sign(&key, b"mls content").unwrap();
        assert!(verifies(key.public_key(), b"mls content", &signature));
        assert!(!verifies(key.public_key(), b"other content", &signature));
    }
}
