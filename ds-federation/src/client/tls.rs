//! The rustls client configuration for peers: the `ring` provider (the one
//! crypto provider of the workspace), the configured trust roots or the
//! system's, ALPN `h2` only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use super::error::ClientError;

/// Builds the client configuration. `trust_roots` empty means the system's
/// roots; when the system has none every handshake fails (logged once here)
/// rather than the DS refusing to start without federation.
pub fn client_config(trust_roots: &[PathBuf]) -> Result<Arc<ClientConfig>, ClientError> {
    let mut roots = RootCertStore::empty();
    if trust_roots.is_empty() {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "a system trust root could not be read");
        }
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::warn!(ignored, "no system trust roots: every peer will be refused");
        }
    } else {
        for path in trust_roots {
            for cert in load_certificates(path)? {
                roots.add(cert).map_err(|source| ClientError::BadRoot {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

fn load_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let pem_error = |e: rustls::pki_types::pem::Error| ClientError::Pem {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err(ClientError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_empty_root_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(
            client_config(std::slice::from_ref(&missing)),
            Err(ClientError::Pem { .. })
        ));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no pem here\n").unwrap();
        assert!(matches!(
            client_config(&[empty]),
            Err(ClientError::NoCertificate(_))
        ));
    }

    #[test]
    fn system_roots_offer_h2_only() {
        let config = client_config(&[]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }
}
