//! Test databases: every scenario runs once on a fresh SQLite file and once on
//! a fresh PostgreSQL database (created under `MIMI_TEST_POSTGRES_URL`, dropped
//! afterwards). Without that variable the PostgreSQL half fails, unless
//! `MIMI_TEST_SKIP_POSTGRES=1` says to skip it on purpose.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use ds_server::storage::{GroupChange, NewGroup, NewLogEntry, Store, StoredGroupRow, Timestamp};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection, Executor, PgConnection};
use tempfile::TempDir;

/// Tables of the schema, for whole-database row counts.
pub const TABLES: [&str; 13] = [
    "groups",
    "group_states",
    "group_log",
    "memberships",
    "group_cursors",
    "inboxes",
    "inbox_entries",
    "outbox",
    "clients",
    "registration_tokens",
    "request_nonces",
    "key_packages",
    "_sqlx_migrations",
];

/// The tables a guest DS writes when it applies a fan-out.
pub const FANOUT_TABLES: [&str; 7] = [
    "groups",
    "replica_groups",
    "replica_welcomes",
    "group_log",
    "memberships",
    "inboxes",
    "inbox_entries",
];

/// Runs `scenario(TestDb)` as two tests, `sqlite` and `postgres`.
macro_rules! on_both_backends {
    ($($scenario:ident),+ $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$scenario(crate::support::TestDb::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(db) = crate::support::TestDb::postgres().await {
                    super::$scenario(db).await;
                }
            }
        }
    )+};
}
pub(crate) use on_both_backends;

/// A fresh database with a connected store.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    inspector: AnyPool,
    postgres: Option<PostgresDatabase>,
    _dir: Option<TempDir>,
}

struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl TestDb {
    /// A new SQLite file in a temporary directory (in a subdirectory that does
    /// not exist yet, so creating it is tested too).
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/data/ds.sqlite3", dir.path().display());
        Self::open(url, None, Some(dir)).await
    }

    /// A new database on the test PostgreSQL server, or `None` if the
    /// PostgreSQL half is skipped on purpose.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("MIMI_TEST_POSTGRES_URL") else {
            if std::env::var("MIMI_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
                eprintln!("MIMI_TEST_SKIP_POSTGRES=1: PostgreSQL half skipped");
                return None;
            }
            panic!(
                "MIMI_TEST_POSTGRES_URL is not set. Every storage test also runs on PostgreSQL: \
                 start one with `eval \"$(bash .ci/pg-start.sh)\"`, or set \
                 MIMI_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL half deliberately."
            );
        };
        let name = unique_database_name();
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to MIMI_TEST_POSTGRES_URL: {e}"));
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = with_database(&admin_url, &name);
        Some(Self::open(url, Some(PostgresDatabase { admin_url, name }), None).await)
    }

    async fn open(url: String, postgres: Option<PostgresDatabase>, dir: Option<TempDir>) -> Self {
        let store = Store::connect(&url).await.unwrap();
        let inspector = AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap();
        Self {
            store,
            url,
            inspector,
            postgres,
            _dir: dir,
        }
    }

    /// Rows in one table, read behind the store's back.
    pub async fn rows(&self, table: &str) -> i64 {
        let statement = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query_scalar(&statement)
            .fetch_one(&self.inspector)
            .await
            .unwrap()
    }

    /// Row counts of the tables a fan-out from another domain writes, in
    /// [`FANOUT_TABLES`] order.
    pub async fn fanout_rows(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in FANOUT_TABLES {
            counts.push(self.rows(table).await);
        }
        counts
    }

    /// Rows per table, in [`TABLES`] order.
    pub async fn all_rows(&self) -> Vec<(&'static str, i64)> {
        let mut counts = Vec::new();
        for table in TABLES {
            counts.push((table, self.rows(table).await));
        }
        counts
    }

    /// A raw query result for checks the API does not expose.
    pub fn inspector(&self) -> &AnyPool {
        &self.inspector
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(PostgresDatabase { admin_url, name }) = self.postgres.take() else {
            return;
        };
        // Best effort, also after a failed assertion; WITH (FORCE) ends the
        // pool connections that may still be open.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = admin.execute(statement.as_str()).await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "mimi_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database name replaced by `name` (query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// The instant `secs` after the epoch: tests pick their own clock.
pub fn at(secs: u64) -> Timestamp {
    Timestamp::from_unix_secs(secs)
}

/// A log entry from `sender` with a readable body.
pub fn entry(sender: &str, body: &str) -> NewLogEntry {
    NewLogEntry {
        sender: Some(sender.to_owned()),
        message: body.as_bytes().to_vec(),
    }
}

/// Allocates and creates a group with these local members, epoch 1.
pub async fn create_group(store: &Store, group_id: &str, members: &[&str]) -> StoredGroupRow {
    store.allocate_group_id(group_id, at(100)).await.unwrap();
    store
        .create_group(
            &NewGroup {
                group_id: group_id.to_owned(),
                epoch: 1,
                state: b"state-1".to_vec(),
                members: members.iter().map(|m| (*m).to_owned()).collect(),
                entries: Vec::new(),
            },
            at(100),
        )
        .await
        .unwrap();
    store.load_group(group_id).await.unwrap().unwrap()
}

/// A commit on `row` by `sender` moving to the next epoch, with nothing else.
pub fn commit(group_id: &str, row: &StoredGroupRow, sender: &str) -> GroupChange {
    GroupChange {
        group_id: group_id.to_owned(),
        expected_epoch: row.epoch,
        expected_revision: row.revision,
        new_epoch: row.epoch + 1,
        new_state: format!("state-{}", row.epoch + 1).into_bytes(),
        entries: vec![entry(sender, &format!("commit->{}", row.epoch + 1))],
        added: Vec::new(),
        removed: Vec::new(),
        inbox: Vec::new(),
        outbox: Vec::new(),
        delete_group: false,
    }
}

/// Strings for a list of names.
pub fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}
