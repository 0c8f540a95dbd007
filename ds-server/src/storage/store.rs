//! The [`Store`] handle and the write-transaction discipline every operation uses.

use std::sync::Arc;

use sqlx::AnyConnection;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::connect::{StoreOptions, open_pool};
use super::{Backend, StorageError};

/// The delivery service's database: a cheaply clonable handle over a
/// connection pool. Every method is one transaction; nothing is cached in
/// process memory, so several processes may share one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Store {
    pub(super) pool: AnyPool,
    backend: Backend,
    /// SQLite admits one writer at a time. Queueing writers here, instead of
    /// letting them spin on SQLite's busy handler, keeps latency fair; the
    /// `BEGIN IMMEDIATE` below still protects against other processes.
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

impl Store {
    /// Opens `sqlite://PATH` (file and directory created if missing) or
    /// `postgres://…` with default [`StoreOptions`] and applies the embedded
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Self::connect_with(url, &StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit pool settings.
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Self, StorageError> {
        let backend = Backend::from_url(url)?;
        let pool = open_pool(url, backend, options).await?;
        let sqlite_writer = match backend {
            Backend::Sqlite => Some(Arc::new(Mutex::new(()))),
            Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            backend,
            sqlite_writer,
        })
    }

    /// Which database this store uses.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness check: one round trip to the database.
    pub async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool, waiting for checked-out connections to come back
    /// (graceful shutdown; other clones of this store stop working too).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a transaction that reads first and upgrades
    /// later could fail with "database is locked" instead of waiting.
    pub(super) async fn begin_write(&self) -> Result<WriteTx, StorageError> {
        let writer_turn = match &self.sqlite_writer {
            Some(lock) => Some(Arc::clone(lock).lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _writer_turn: writer_turn,
        })
    }
}

/// A write transaction. Dropping it without [`WriteTx::commit`] rolls back.
pub(super) struct WriteTx {
    // Declared before the guard so the rollback is queued before the next
    // writer is admitted.
    tx: Transaction<'static, Any>,
    _writer_turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    /// The connection to run statements on.
    pub(super) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Makes every write of the transaction durable and visible at once.
    pub(super) async fn commit(self) -> Result<(), StorageError> {
        self.tx.commit().await?;
        Ok(())
    }
}
