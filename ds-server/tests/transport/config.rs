//! The configuration loader: defaults, file, environment precedence, errors.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ds_server::config::{Config, ConfigError, LogFormat, TlsSource};

fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn load(file: Option<&Path>, pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load_with_env(file, env(pairs))
}

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("mimi-ds.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn defaults() {
    let config = load(None, &[]).unwrap();
    assert_eq!(config.domain.as_str(), "localhost");
    assert_eq!(
        config.listen,
        "127.0.0.1:8443".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        config.admin_listen,
        "127.0.0.1:9443".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(config.data_dir, PathBuf::from("./mimi-ds-data"));
    assert_eq!(config.tls, TlsSource::DevSelfSigned);
    assert_eq!(
        config.database_url,
        "sqlite://./mimi-ds-data/mimi-ds.sqlite3"
    );
    assert_eq!(config.limits.max_body_bytes, 16 * 1024 * 1024);
    assert_eq!(config.limits.max_connections, 10_000);
    assert_eq!(config.limits.header_read_timeout, Duration::from_secs(10));
    assert_eq!(config.limits.tls_handshake_timeout, Duration::from_secs(10));
    assert_eq!(config.log.format, LogFormat::Text);
    assert_eq!(config.limits, ds_server::http::Limits::default());
}

#[test]
fn the_example_file_loads_and_matches_the_defaults() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/mimi-ds.example.toml");
    let from_example = load(Some(&example), &[]).unwrap();
    let defaults = load(None, &[]).unwrap();
    assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
}

#[test]
fn toml_file_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        r#"
domain = "ds-a.example"
data_dir = "/var/lib/mimi"
database_url = "postgres://mimi@db/mimi"
[listen]
address = "0.0.0.0:443"
[tls]
cert = "/etc/tls/cert.pem"
key = "/etc/tls/key.pem"
[limits]
max_body_bytes = 1024
[log]
format = "json"
"#,
    );
    let config = load(Some(&file), &[]).unwrap();
    assert_eq!(config.domain.as_str(), "ds-a.example");
    assert_eq!(config.listen.port(), 443);
    assert_eq!(
        config.admin_listen.port(),
        9443,
        "untouched keys keep their default"
    );
    assert_eq!(config.database_url, "postgres://mimi@db/mimi");
    assert_eq!(
        config.tls,
        TlsSource::Files {
            cert: "/etc/tls/cert.pem".into(),
            key: "/etc/tls/key.pem".into()
        }
    );
    assert_eq!(config.limits.max_body_bytes, 1024);
    assert_eq!(config.limits.max_connections, 10_000);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "domain = \"from-file.example\"\n[listen]\naddress = \"127.0.0.1:1000\"\n",
    );
    let config = load(
        Some(&file),
        &[
            ("MIMI_DS__DOMAIN", "from-env.example"),
            ("MIMI_DS__LISTEN__ADDRESS", "127.0.0.1:2000"),
            ("MIMI_DS__LIMITS__MAX_CONNECTIONS", "7"),
            ("MIMI_DS__DATA_DIR", "/tmp/mimi-env"),
            ("UNRELATED", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(config.domain.as_str(), "from-env.example");
    assert_eq!(config.listen.port(), 2000);
    assert_eq!(config.limits.max_connections, 7);
    assert_eq!(
        config.database_url,
        "sqlite:///tmp/mimi-env/mimi-ds.sqlite3"
    );
}

/// Environment overrides and a check of the error they must produce.
type InvalidCase = (
    &'static [(&'static str, &'static str)],
    fn(&ConfigError) -> bool,
);

#[test]
fn invalid_values_are_typed_errors() {
    let cases: Vec<InvalidCase> = vec![
        (&[("MIMI_DS__DOMAIN", "Not A Domain")], |e| {
            matches!(e, ConfigError::Domain(_))
        }),
        (&[("MIMI_DS__LISTEN__ADDRESS", "localhost")], |e| {
            matches!(
                e,
                ConfigError::Address {
                    field: "listen.address",
                    ..
                }
            )
        }),
        (&[("MIMI_DS__ADMIN__ADDRESS", "1.2.3.4")], |e| {
            matches!(
                e,
                ConfigError::Address {
                    field: "admin.address",
                    ..
                }
            )
        }),
        (&[("MIMI_DS__TLS__CERT", "/c.pem")], |e| {
            matches!(e, ConfigError::TlsIncomplete { set: "tls.cert" })
        }),
        (&[("MIMI_DS__LIMITS__MAX_BODY_BYTES", "0")], |e| {
            matches!(
                e,
                ConfigError::Zero {
                    field: "limits.max_body_bytes"
                }
            )
        }),
        (&[("MIMI_DS__LIMITS__MAX_BODY_BYTES", "99999999999")], |e| {
            matches!(
                e,
                ConfigError::TooLarge {
                    field: "limits.max_body_bytes",
                    ..
                }
            )
        }),
        (&[("MIMI_DS__LIMITS__HEADER_READ_TIMEOUT_SECS", "0")], |e| {
            matches!(e, ConfigError::Zero { .. })
        }),
        (&[("MIMI_DS__LIMITS__MAX_CONNECTIONS", "many")], |e| {
            matches!(e, ConfigError::Load(_))
        }),
        (&[("MIMI_DS__DATABASE_URL", "mysql://x")], |e| {
            matches!(e, ConfigError::DatabaseUrl(_))
        }),
        (&[("MIMI_DS__DATABASE_URL", "sqlite::memory:")], |e| {
            matches!(e, ConfigError::DatabaseUrl(_))
        }),
        (&[("MIMI_DS__LOG__FORMAT", "xml")], |e| {
            matches!(e, ConfigError::LogFormat(_))
        }),
        (&[("MIMI_DS__LOG__FILTER", "[[[")], |e| {
            matches!(e, ConfigError::LogFilter { .. })
        }),
        (&[("MIMI_DS__DOMIAN", "typo.example")], |e| {
            matches!(e, ConfigError::Load(_))
        }),
    ];
    for (pairs, expected) in cases {
        let error = load(None, pairs).expect_err(&format!("{pairs:?} must be refused"));
        assert!(expected(&error), "{pairs:?} gave {error:?}");
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn missing_file_and_bad_toml_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    assert!(matches!(
        load(Some(&missing), &[]),
        Err(ConfigError::MissingFile(p)) if p == missing
    ));
    let broken = write(&dir, "domain = \n");
    assert!(matches!(
        load(Some(&broken), &[]),
        Err(ConfigError::Load(_))
    ));
    let unknown = write(&dir, "[limits]\nmax_body = 3\n");
    let error = load(Some(&unknown), &[]).unwrap_err();
    assert!(error.to_string().contains("max_body"), "{error}");
}

#[test]
fn federation_peers_and_trust_roots_load_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not parsed until federation uses it").unwrap();
    let text = format!(
        "domain = \"ds-a.example\"\n\
         [federation]\n\
         trust_roots = [\"{}\"]\n\
         [[federation.peers]]\n\
         domain = \"ds-b.example\"\n\
         address = \"127.0.0.1:8444\"\n",
        ca.display()
    );
    let config = load(Some(&write(&dir, &text)), &[]).unwrap();
    assert_eq!(config.federation.trust_roots, vec![ca]);
    let peers: Vec<(String, String)> = config
        .federation
        .peers
        .iter()
        .map(|(d, a)| (d.as_str().to_owned(), a.clone()))
        .collect();
    assert_eq!(
        peers,
        vec![("ds-b.example".to_owned(), "127.0.0.1:8444".to_owned())]
    );
    assert!(load(None, &[]).unwrap().federation.peers.is_empty());

    let own = "domain = \"ds-a.example\"\n[[federation.peers]]\ndomain = \"ds-a.example\"\naddress = \"x:1\"\n";
    assert!(matches!(
        load(Some(&write(&dir, own)), &[]),
        Err(ConfigError::Peer { .. })
    ));
}
