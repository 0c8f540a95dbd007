//! Opening a store: files, pragmas, migrations, readiness.

use ds_server::storage::{Backend, Store};

use crate::support::{TestDb, on_both_backends};

on_both_backends!(
    connect_prepares_the_database,
    reconnecting_keeps_data_and_schema
);

async fn connect_prepares_the_database(db: TestDb) {
    db.store.ping().await.unwrap();
    let expected = if db.url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    assert_eq!(db.store.backend(), expected);
    assert_eq!(db.store.backend().name(), expected.to_string());
    // Every embedded migration applied, once.
    assert_eq!(db.rows("_sqlx_migrations").await, migration_count(expected));

    if let Some(path) = db.url.strip_prefix("sqlite://") {
        assert!(
            std::path::Path::new(path).is_file(),
            "file and directory created"
        );
        let mut conn = db.inspector().acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
    }
}

async fn reconnecting_keeps_data_and_schema(db: TestDb) {
    db.store
        .register_client("alice@a.example/1", b"key", crate::support::at(1))
        .await
        .unwrap();
    db.store.close().await;
    let again = Store::connect(&db.url).await.unwrap();
    assert!(again.client("alice@a.example/1").await.unwrap().is_some());
    assert_eq!(
        db.rows("_sqlx_migrations").await,
        migration_count(again.backend())
    );
    again.close().await;
}

fn migration_count(backend: Backend) -> i64 {
    let dir = format!(
        "{}/migrations/{}",
        env!("CARGO_MANIFEST_DIR"),
        backend.name()
    );
    let files = std::fs::read_dir(dir).unwrap().count();
    i64::try_from(files).unwrap()
}
