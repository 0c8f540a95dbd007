//! The key-package directory: clients publish key packages, others claim one
//! to add the client to a group. A regular key package is handed out once; the
//! last-resort one is handed out whenever no regular one is left, and never
//! consumed. "Connection" key packages (for first contact) are kept apart.

use super::numbers::from_db;
use super::{Backend, StorageError, Store, Timestamp};

/// A key package as published by its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKeyPackage {
    /// The key package's hash reference (unique per client).
    pub kp_ref: Vec<u8>,
    /// The serialised key package.
    pub key_package: Vec<u8>,
    /// For establishing a connection rather than for joining a group.
    pub connection: bool,
    /// Served when no regular one is left, and never consumed.
    pub last_resort: bool,
    /// Never served at or after this time.
    pub not_after: Timestamp,
}

/// Claims the regular key package expiring first. On PostgreSQL the row is
/// locked while claimed and concurrent takers skip to the next one (`SKIP
/// LOCKED`), so none waits and none gets the same package; on SQLite writers
/// are serialised and the statement is atomic.
const TAKE_SQLITE: &str = "DELETE FROM key_packages
     WHERE client_id = $1 AND kp_ref = (
         SELECT kp_ref FROM key_packages
         WHERE client_id = $1 AND connection = $2 AND last_resort = FALSE AND not_after > $3
         ORDER BY not_after, kp_ref LIMIT 1)
     RETURNING key_package";
const TAKE_POSTGRES: &str = "DELETE FROM key_packages
     WHERE client_id = $1 AND kp_ref = (
         SELECT kp_ref FROM key_packages
         WHERE client_id = $1 AND connection = $2 AND last_resort = FALSE AND not_after > $3
         ORDER BY not_after, kp_ref LIMIT 1
         FOR UPDATE SKIP LOCKED)
     RETURNING key_package";

impl Store {
    /// Adds key packages for a client. A last-resort package replaces the
    /// client's previous one of the same kind (connection or not); a `kp_ref`
    /// the client already has is ignored. Returns how many were stored.
    pub async fn publish_key_packages(
        &self,
        client_id: &str,
        packages: &[StoredKeyPackage],
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        let mut stored = 0;
        for package in packages {
            if package.last_resort {
                sqlx::query(
                    "DELETE FROM key_packages
                     WHERE client_id = $1 AND connection = $2 AND last_resort = TRUE",
                )
                .bind(client_id)
                .bind(package.connection)
                .execute(tx.conn())
                .await?;
            }
            stored += sqlx::query(
                "INSERT INTO key_packages
                     (client_id, kp_ref, connection, last_resort, not_after, key_package, published_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (client_id, kp_ref) DO NOTHING",
            )
            .bind(client_id)
            .bind(&package.kp_ref)
            .bind(package.connection)
            .bind(package.last_resort)
            .bind(package.not_after.to_db()?)
            .bind(&package.key_package)
            .bind(now)
            .execute(tx.conn())
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Hands out one unexpired key package of the client: a regular one,
    /// consumed so nobody else gets it, else the last-resort one, kept. `None`
    /// if the client has neither.
    pub async fn take_key_package(
        &self,
        client_id: &str,
        connection: bool,
        now: Timestamp,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let now = now.to_db()?;
        let take = match self.backend() {
            Backend::Sqlite => TAKE_SQLITE,
            Backend::Postgres => TAKE_POSTGRES,
        };
        let mut tx = self.begin_write().await?;
        let taken: Option<Vec<u8>> = sqlx::query_scalar(take)
            .bind(client_id)
            .bind(connection)
            .bind(now)
            .fetch_optional(tx.conn())
            .await?;
        let package = match taken {
            Some(package) => Some(package),
            None => {
                sqlx::query_scalar(
                    "SELECT key_package FROM key_packages
                     WHERE client_id = $1 AND connection = $2 AND last_resort = TRUE
                       AND not_after > $3
                     ORDER BY not_after DESC LIMIT 1",
                )
                .bind(client_id)
                .bind(connection)
                .bind(now)
                .fetch_optional(tx.conn())
                .await?
            }
        };
        tx.commit().await?;
        Ok(package)
    }

    /// How many regular, unexpired key packages of this kind the client has
    /// left (it should publish more when this runs low).
    pub async fn key_package_count(
        &self,
        client_id: &str,
        connection: bool,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM key_packages
             WHERE client_id = $1 AND connection = $2 AND last_resort = FALSE AND not_after > $3",
        )
        .bind(client_id)
        .bind(connection)
        .bind(now.to_db()?)
        .fetch_one(&self.pool)
        .await?;
        from_db(count, "key package count")
    }
}
