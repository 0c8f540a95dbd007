//! TLS for the public listener: the rustls server configuration from PEM
//! files, and the self-signed development certificate used when none is
//! configured.

mod dev_cert;
mod error;
mod server_config;

pub use dev_cert::{DEV_CERT_DIR, DEV_CERT_FILE, DEV_KEY_FILE, DevCert, ensure_dev_cert};
pub use error::TlsError;
pub use server_config::{ALPN_PROTOCOLS, load_certificates, server_config};
