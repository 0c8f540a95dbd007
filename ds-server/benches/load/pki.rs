//! The bench's own certificate authority: a self-signed CA that both DSs
//! list as `federation.trust_roots` (and the generator trusts), issuing one
//! server certificate per DS domain.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A CA whose files live in the bench's directory.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    /// The CA certificate (PEM).
    pub cert: PathBuf,
}

/// A server certificate and its key (PEM files).
pub struct ServerCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Ca {
    /// A new CA, its certificate written to `dir/bench-ca.pem`.
    pub fn new(dir: &Path) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params
            .distinguished_name
            .push(DnType::CommonName, "mimi-ds bench CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        let cert = dir.join("bench-ca.pem");
        std::fs::write(&cert, issuer.pem()).expect("write CA certificate");
        Ca {
            issuer,
            dir: dir.to_path_buf(),
            cert,
        }
    }

    /// A certificate for `domain` (its only SAN), signed by this CA.
    pub fn issue(&self, domain: &str) -> ServerCert {
        let mut params = CertificateParams::new(vec![domain.to_owned()]).expect("server params");
        params.distinguished_name.push(DnType::CommonName, domain);
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        let files = ServerCert {
            cert: self.dir.join(format!("{domain}.crt.pem")),
            key: self.dir.join(format!("{domain}.key.pem")),
        };
        std::fs::write(&files.cert, cert.pem()).expect("write certificate");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key");
        files
    }
}
