//! Why TLS could not be set up.

use std::path::PathBuf;

/// A TLS set-up failure.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("cannot read {what} from {path}: {reason}")]
    Pem {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The failure.
        reason: String,
    },
    /// The certificate file holds no certificate.
    #[error("{0} contains no certificate")]
    NoCertificate(PathBuf),
    /// rustls refused the certificate, key or protocol settings.
    #[error("invalid TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// Generating the development certificate failed.
    #[error("cannot generate the development certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing the development certificate failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
