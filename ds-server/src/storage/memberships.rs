//! Questions the operator's commands ask: which groups a client is in, which
//! clients a user has, and how much the DS holds (for the status report).

use super::roster::sorted;
use super::{StorageError, Store};

impl Store {
    /// Groups of this DS whose log this client currently reads (an open
    /// membership interval), sorted: the groups a DS-induced removal must
    /// visit. Replicas of other domains' groups are not among them.
    pub async fn groups_of_client(&self, client_id: &str) -> Result<Vec<String>, StorageError> {
        let groups: Vec<String> = sqlx::query_scalar(
            "SELECT group_id FROM memberships m WHERE client_id = $1 AND until_seq IS NULL
               AND NOT EXISTS (SELECT 1 FROM replica_groups r WHERE r.group_id = m.group_id)",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(sorted(&groups).into_iter().map(str::to_owned).collect())
    }

    /// Number of live (created, not deleted) groups owned by this DS.
    pub async fn group_count(&self) -> Result<u64, StorageError> {
        count(
            self,
            "SELECT COUNT(*) FROM groups g WHERE status = 'active'
               AND NOT EXISTS (SELECT 1 FROM replica_groups r WHERE r.group_id = g.group_id)",
        )
        .await
    }

    /// Number of registered clients.
    pub async fn client_count(&self) -> Result<u64, StorageError> {
        count(self, "SELECT COUNT(*) FROM clients").await
    }
}

async fn count(store: &Store, statement: &'static str) -> Result<u64, StorageError> {
    let n: i64 = sqlx::query_scalar(statement).fetch_one(&store.pool).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
