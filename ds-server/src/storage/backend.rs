//! Which database a [`Store`](super::Store) talks to, decided by the URL.

use std::fmt;

use super::StorageError;

/// The database behind a store. The SQL is shared; the backends differ in
/// how writers are serialised (see the module docs) and in two statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// One file under the data directory, WAL journal: the embedded default.
    Sqlite,
    /// Shared by several stateless DS replicas for scale-out.
    Postgres,
}

impl Backend {
    /// Picks the backend from a `sqlite://…` or `postgres://…` (`postgresql://…`) URL.
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        let scheme = url.split(':').next().unwrap_or_default();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        match scheme {
            "sqlite" if !in_memory => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(StorageError::UnsupportedUrl {
                scheme: if in_memory {
                    "sqlite (in-memory)".to_owned()
                } else {
                    scheme.to_owned()
                },
            }),
        }
    }

    /// Short lowercase name for logs, metrics and the readiness endpoint.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_scheme_picks_the_backend() {
        assert_eq!(
            Backend::from_url("sqlite://data/ds.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::from_url("sqlite:ds.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
    }

    #[test]
    fn unsupported_urls_are_refused_without_echoing_secrets() {
        for url in [
            "mysql://root:hunter2@h/db",
            "sqlite::memory:",
            "sqlite://x?mode=memory",
            "",
        ] {
            let error = Backend::from_url(url).unwrap_err();
            assert!(
                matches!(error, StorageError::UnsupportedUrl { .. }),
                "{url}"
            );
            assert!(!error.to_string().contains("hunter2"));
        }
    }
}
