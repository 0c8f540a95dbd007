//! Opening the connection pool: SQLite file set-up, per-connection settings,
//! and the embedded migrations that run before the store is handed out.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor};

use super::{Backend, StorageError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Tuning knobs of [`Store::connect_with`](super::Store::connect_with).
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Upper bound of pooled connections (readers and writers together).
    pub max_connections: u32,
    /// How long a caller waits for a free pooled connection before failing.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a statement waits for another process's write
    /// lock before failing with "database is locked".
    pub sqlite_busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
            sqlite_busy_timeout: Duration::from_secs(10),
        }
    }
}

/// Connects, prepares the database and brings its schema up to date.
pub(super) async fn open_pool(
    url: &str,
    backend: Backend,
    options: &StoreOptions,
) -> Result<AnyPool, StorageError> {
    install_default_drivers();
    let pool_options = AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout);
    let pool = match backend {
        Backend::Sqlite => {
            prepare_sqlite_file(url, options.sqlite_busy_timeout).await?;
            let busy_ms = options.sqlite_busy_timeout.as_millis();
            // The Any driver only takes a URL, so the per-connection settings
            // are applied as pragmas on every new connection.
            let settings = format!(
                "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {busy_ms};"
            );
            pool_options
                .after_connect(move |conn, _meta| {
                    let settings = settings.clone();
                    Box::pin(async move {
                        conn.execute(settings.as_str()).await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?
        }
        Backend::Postgres => pool_options.connect(url).await?,
    };
    let migrations = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    // On PostgreSQL the migrator holds an advisory lock, so replicas starting
    // together apply each migration exactly once.
    migrations.run(&pool).await?;
    Ok(pool)
}

/// Creates the file (and its directory) if missing and switches it to WAL,
/// a persistent property of the file that needs a lock no pool connection
/// should have to take.
async fn prepare_sqlite_file(url: &str, busy_timeout: Duration) -> Result<(), StorageError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(busy_timeout);
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let connection = options.connect().await?;
    connection.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    /// The settings SQLite keeps per connection are on for every pooled one.
    #[tokio::test]
    async fn sqlite_connections_use_wal_foreign_keys_and_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/new-dir/ds.sqlite3", dir.path().display());
        let store = Store::connect(&url).await.unwrap();
        let mut conn = store.pool.acquire().await.unwrap();
        for (pragma, expected) in [
            ("journal_mode", "wal"),
            ("foreign_keys", "1"),
            ("synchronous", "1"),
            ("busy_timeout", "10000"),
        ] {
            let statement = format!("PRAGMA {pragma}");
            let row = sqlx::query(&statement).fetch_one(&mut *conn).await.unwrap();
            let value: String = match sqlx::Row::try_get::<String, _>(&row, 0) {
                Ok(text) => text,
                Err(_) => sqlx::Row::try_get::<i64, _>(&row, 0).unwrap().to_string(),
            };
            assert_eq!(value, expected, "PRAGMA {pragma}");
        }
    }
}
