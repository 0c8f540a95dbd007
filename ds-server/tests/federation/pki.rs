//! A test certificate authority: a self-signed CA (its certificate is what
//! DSs list as `federation.trust_roots` and clients trust) issuing server
//! certificates whose SAN is a DS's domain.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A CA whose files live in a directory of the test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    /// The CA certificate (PEM).
    pub cert: PathBuf,
}

/// A server certificate and its key (PEM files).
#[derive(Debug, Clone)]
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCa {
    /// A new CA named `name`, its certificate written to `dir/name.pem`.
    pub fn new(dir: &Path, name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let cert = dir.join(format!("{name}.pem"));
        std::fs::write(&cert, issuer.pem()).unwrap();
        Self {
            issuer,
            dir: dir.to_path_buf(),
            cert,
        }
    }

    /// A server certificate for `domain` (its only SAN), signed by this CA.
    pub fn issue(&self, domain: &str) -> ServerCert {
        let mut params = CertificateParams::new(vec![domain.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, domain);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let files = ServerCert {
            cert: self.dir.join(format!("{domain}.crt.pem")),
            key: self.dir.join(format!("{domain}.key.pem")),
        };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        files
    }
}
