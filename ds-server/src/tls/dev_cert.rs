//! The self-signed development certificate, generated on first start into
//! the data directory and reused afterwards. For local use and tests only:
//! clients must trust this exact certificate.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::TlsError;

/// Directory under the data directory holding the development certificate.
pub const DEV_CERT_DIR: &str = "tls";
/// File name of the development certificate.
pub const DEV_CERT_FILE: &str = "dev-cert.pem";
/// File name of the development private key.
pub const DEV_KEY_FILE: &str = "dev-key.pem";

/// Where the development certificate lives and whether it was just made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCert {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The private key (PEM, PKCS#8, mode 0600).
    pub key: PathBuf,
    /// `true` when this call generated it, `false` when an existing one is reused.
    pub generated: bool,
}

/// Returns the development certificate for `domain` (plus `localhost` and
/// `127.0.0.1`) under `data_dir`, generating it when either file is missing.
pub fn ensure_dev_cert(data_dir: &Path, domain: &str) -> Result<DevCert, TlsError> {
    let dir = data_dir.join(DEV_CERT_DIR);
    let cert = dir.join(DEV_CERT_FILE);
    let key = dir.join(DEV_KEY_FILE);
    if cert.is_file() && key.is_file() {
        return Ok(DevCert {
            cert,
            key,
            generated: false,
        });
    }
    let mut names = vec![domain.to_owned()];
    for extra in ["localhost", "127.0.0.1"] {
        if !names.iter().any(|n| n == extra) {
            names.push(extra.to_owned());
        }
    }
    let generated = rcgen::generate_simple_self_signed(names)?;
    std::fs::create_dir_all(&dir).map_err(|source| TlsError::Write {
        path: dir.clone(),
        source,
    })?;
    write_file(&key, generated.signing_key.serialize_pem().as_bytes(), true)?;
    write_file(&cert, generated.cert.pem().as_bytes(), false)?;
    Ok(DevCert {
        cert,
        key,
        generated: true,
    })
}

fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), TlsError> {
    let error = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(error)?;
    file.write_all(contents).map_err(error)?;
    file.sync_all().map_err(error)
}
