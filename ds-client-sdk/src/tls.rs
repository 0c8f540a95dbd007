//! The rustls configuration of the live-push WebSocket: the same trust
//! roots as every other request (configured CA files, else the system's),
//! the `ring` provider (the workspace's one), and ALPN `http/1.1`, since
//! the WebSocket opens with an HTTP/1.1 upgrade (spec §13.8).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, Result};

/// The client TLS configuration for the push channel.
pub fn push_tls(trust_roots: &[PathBuf]) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    if trust_roots.is_empty() {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
    } else {
        for path in trust_roots {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| Error::Config(format!("trust root {}: {e}", path.display())))?;
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| Error::Config(format!("trust root {}: {e}", path.display())))?;
            }
        }
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Config(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
