//! The guest side of federation: replicas of other domains' groups, filled
//! from the owning DS's fan-out. A replica keeps the log entries this DS's
//! clients may see under the owner's sequence numbers, with membership
//! intervals derived from each entry's recipients, so [`Store::sync`] and
//! [`Store::purge`] treat it like a local group. Welcomes go to the
//! recipients' inboxes once each.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::AnyConnection;

use super::inbox;
use super::log::{LogRow, insert_rows};
use super::numbers::{from_db, to_db};
use super::placeholders::in_list;
use super::roster::{close_memberships, open_memberships, sorted};
use super::store::WriteTx;
use super::{StorageError, Store, Timestamp};

/// Client ids per `IN (…)` of [`Store::unregistered_clients`].
const CLIENTS_PER_QUERY: usize = 500;

/// What a fan-out entry is for on this DS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplicaKind {
    /// An entry of the group's log.
    GroupMessage,
    /// A Welcome for the recipients' inboxes. `digest` is the SHA-256 of the
    /// message (computed by the caller: storage does no cryptography); with
    /// the group and sequence number it recognises a repeated Welcome.
    Welcome {
        /// SHA-256 of `message`.
        digest: [u8; 32],
    },
}

/// One entry of a fan-out from a group's owning DS, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaEntry {
    /// The group, of the owning DS's domain.
    pub group_id: String,
    /// The owning DS's number of the entry in the group's log (for a Welcome:
    /// that of the commit that added its recipients); at least 1.
    pub seq: u64,
    /// Log entry or Welcome.
    pub kind: ReplicaKind,
    /// This DS's clients who see this entry (a group message; never empty:
    /// the wire's "same as before" is expanded by the caller) or whose
    /// inboxes get it (a Welcome).
    pub recipients: Vec<String>,
    /// The message bytes, opaque to storage.
    pub message: Vec<u8>,
}

/// What [`Store::apply_fanout`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Entries stored now.
    pub applied: u64,
    /// Entries stored before (a repeated fan-out), skipped.
    pub duplicates: u64,
    /// Local clients with something new to read, sorted: whom to wake once
    /// the transaction committed.
    pub wake: Vec<String>,
}

/// A replica group as locked for one fan-out.
struct Replica {
    /// One past the highest log entry received.
    next_seq: i64,
    /// Clients with an open membership interval, sorted.
    open: BTreeSet<String>,
    /// Entries of this batch to write: (seq, message), in order.
    pending: Vec<(i64, Vec<u8>)>,
}

impl Store {
    /// Stores a fan-out from `sender`, the owning DS of every entry's group,
    /// in one transaction and in the entries' order. A log entry whose number
    /// is already stored with the same bytes, or lies below the highest number
    /// received (so it was stored and purged since), is a duplicate and
    /// skipped; the same number with other bytes is
    /// [`StorageError::ConflictingEntry`] and nothing at all is stored. A new
    /// log entry opens a membership from its number for each recipient without
    /// one and closes the others' open ones just before it. A Welcome goes to
    /// each recipient's inbox unless the same Welcome of the same commit was
    /// received before.
    ///
    /// The replica's group rows are locked first, in id order, then the
    /// inboxes in client order (the order every writer uses), so two fan-outs
    /// for one group, from any process, are applied one after the other.
    pub async fn apply_fanout(
        &self,
        sender: &str,
        entries: &[ReplicaEntry],
        now: Timestamp,
    ) -> Result<ApplyOutcome, StorageError> {
        check_entries(entries)?;
        let now = now.to_db()?;
        let mut tx = self.begin_write().await?;
        let mut replicas = BTreeMap::new();
        let groups: BTreeSet<&str> = entries.iter().map(|e| e.group_id.as_str()).collect();
        for group_id in groups {
            let replica = lock_replica(tx.conn(), sender, group_id, now).await?;
            replicas.insert(group_id, replica);
        }

        let mut outcome = ApplyOutcome::default();
        let mut wake = BTreeSet::new();
        let mut welcomes: Vec<(&str, &[u8])> = Vec::new();
        for entry in entries {
            let Some(replica) = replicas.get_mut(entry.group_id.as_str()) else {
                return Err(StorageError::InvalidRequest("fan-out group not locked"));
            };
            let seq = to_db(entry.seq, "log sequence number")?;
            let fresh = match &entry.kind {
                ReplicaKind::GroupMessage => apply_message(tx.conn(), replica, entry, seq).await?,
                ReplicaKind::Welcome { digest } => {
                    mark_welcome(tx.conn(), &entry.group_id, seq, digest, now).await?
                }
            };
            if !fresh {
                outcome.duplicates += 1;
                continue;
            }
            outcome.applied += 1;
            wake.extend(entry.recipients.iter().cloned());
            if matches!(entry.kind, ReplicaKind::Welcome { .. }) {
                for client in &entry.recipients {
                    welcomes.push((client, &entry.message));
                }
            }
        }
        for (group_id, replica) in &replicas {
            write_pending(tx.conn(), group_id, replica, now).await?;
            sqlx::query("UPDATE groups SET next_seq = $1 WHERE group_id = $2")
                .bind(replica.next_seq)
                .bind(group_id)
                .execute(tx.conn())
                .await?;
        }
        push_welcomes(&mut tx, welcomes, now).await?;
        tx.commit().await?;
        outcome.wake = wake.into_iter().collect();
        Ok(outcome)
    }

    /// Those of `clients` that are not registered here, sorted: a fan-out
    /// naming any of them stores nothing for
    /// them. One read, a statement per few hundred
    /// clients (the databases bound the parameters of one statement).
    pub async fn unregistered_clients(
        &self,
        clients: &[String],
    ) -> Result<Vec<String>, StorageError> {
        let wanted = sorted(clients);
        let mut conn = self.pool.acquire().await?;
        let mut registered = BTreeSet::new();
        for chunk in wanted.chunks(CLIENTS_PER_QUERY) {
            let sql = format!(
                "SELECT client_id FROM clients WHERE client_id IN ({})",
                in_list(chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for client in chunk {
                query = query.bind(*client);
            }
            registered.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(wanted
            .into_iter()
            .filter(|client| !registered.contains(*client))
            .map(str::to_owned)
            .collect())
    }

    /// Number of replicas of other domains' groups kept here (a gauge).
    pub async fn replica_group_count(&self) -> Result<u64, StorageError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replica_groups")
            .fetch_one(&self.pool)
            .await?;
        from_db(n, "replica group count")
    }
}

/// Refuses what no checked fan-out contains, before anything is written.
fn check_entries(entries: &[ReplicaEntry]) -> Result<(), StorageError> {
    for entry in entries {
        if entry.seq == 0 {
            return Err(StorageError::InvalidRequest(
                "log sequence numbers start at 1",
            ));
        }
        if entry.recipients.is_empty() {
            return Err(StorageError::InvalidRequest(
                "a replica entry lists its recipients",
            ));
        }
    }
    Ok(())
}

/// Creates the replica on first sight, locks its group row (held until the
/// transaction ends) and reads its state. A group id that is this DS's own
/// group, or another owner's replica, is refused: the caller checked that
/// every group is of the sender's domain.
async fn lock_replica(
    conn: &mut AnyConnection,
    sender: &str,
    group_id: &str,
    now: i64,
) -> Result<Replica, StorageError> {
    sqlx::query(
        "INSERT INTO groups (group_id, status, reserved_at, updated_at) VALUES ($1, 'active', $2, $2)
         ON CONFLICT (group_id) DO NOTHING",
    )
    .bind(group_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let locked: Option<i64> = sqlx::query_scalar(
        "UPDATE groups SET updated_at = $1 WHERE group_id = $2 AND status = 'active'
         RETURNING next_seq",
    )
    .bind(now)
    .bind(group_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(next_seq) = locked else {
        return Err(StorageError::InvalidRequest(
            "a fan-out names a group id this DS holds as its own",
        ));
    };
    sqlx::query(
        "INSERT INTO replica_groups (group_id, owner, created_at)
         SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM group_states WHERE group_id = $1)
         ON CONFLICT (group_id) DO NOTHING",
    )
    .bind(group_id)
    .bind(sender)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT owner FROM replica_groups WHERE group_id = $1")
            .bind(group_id)
            .fetch_optional(&mut *conn)
            .await?;
    if owner.as_deref() != Some(sender) {
        return Err(StorageError::InvalidRequest(
            "a fan-out names a group that is not a replica of the sender's",
        ));
    }
    let open: Vec<String> = sqlx::query_scalar(
        "SELECT client_id FROM memberships WHERE group_id = $1 AND until_seq IS NULL",
    )
    .bind(group_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Replica {
        next_seq,
        open: open.into_iter().collect(),
        pending: Vec::new(),
    })
}

/// Takes one log entry unless it is a duplicate (`false`). New entries are
/// only collected in `replica.pending` (written together by
/// [`write_pending`]); membership changes are written at once. An entry at
/// or past `next_seq` cannot be stored yet, so only older ones are looked up.
async fn apply_message(
    conn: &mut AnyConnection,
    replica: &mut Replica,
    entry: &ReplicaEntry,
    seq: i64,
) -> Result<bool, StorageError> {
    if seq < replica.next_seq {
        let conflict = || StorageError::ConflictingEntry {
            group_id: entry.group_id.clone(),
            seq: entry.seq,
        };
        if let Some(pending) = replica.pending.iter().find(|(s, _)| *s == seq) {
            return if pending.1 == entry.message {
                Ok(false)
            } else {
                Err(conflict())
            };
        }
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT message FROM group_log WHERE group_id = $1 AND seq = $2")
                .bind(&entry.group_id)
                .bind(seq)
                .fetch_optional(&mut *conn)
                .await?;
        return match stored {
            Some(stored) if stored != entry.message => Err(conflict()),
            // Stored, or received before and purged since: the owner sends
            // each destination's entries of a group in order, so nothing
            // new is older.
            _ => Ok(false),
        };
    }
    replica.pending.push((seq, entry.message.clone()));
    if entry.recipients.len() != replica.open.len()
        || entry.recipients.iter().any(|c| !replica.open.contains(c))
    {
        let recipients: BTreeSet<String> = entry.recipients.iter().cloned().collect();
        let joined: Vec<String> = recipients.difference(&replica.open).cloned().collect();
        let left: Vec<String> = replica.open.difference(&recipients).cloned().collect();
        close_memberships(conn, &entry.group_id, &left, seq - 1).await?;
        open_memberships(conn, &entry.group_id, &joined, seq).await?;
        replica.open = recipients;
    }
    replica.next_seq = seq + 1;
    Ok(true)
}

/// Writes the entries [`apply_message`] took for `group_id`, a few
/// statements for the whole batch.
async fn write_pending(
    conn: &mut AnyConnection,
    group_id: &str,
    replica: &Replica,
    now: i64,
) -> Result<(), StorageError> {
    let rows: Vec<LogRow<'_>> = replica
        .pending
        .iter()
        .map(|(seq, message)| LogRow {
            seq: *seq,
            sender: None,
            message,
        })
        .collect();
    insert_rows(conn, group_id, &rows, now).await
}

/// Records a Welcome as received; `false` if it was before.
async fn mark_welcome(
    conn: &mut AnyConnection,
    group_id: &str,
    seq: i64,
    digest: &[u8; 32],
    now: i64,
) -> Result<bool, StorageError> {
    let inserted = sqlx::query(
        "INSERT INTO replica_welcomes (group_id, seq, digest, received_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(seq)
    .bind(&digest[..])
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// Pushes the Welcomes in client order (the inbox lock order of every
/// writer); one client's Welcomes keep the fan-out's order.
async fn push_welcomes(
    tx: &mut WriteTx,
    mut welcomes: Vec<(&str, &[u8])>,
    now: i64,
) -> Result<(), StorageError> {
    welcomes.sort_by_key(|&(client, _)| client);
    for (client, message) in welcomes {
        inbox::push(tx.conn(), client, message, now).await?;
    }
    Ok(())
}

/// Forgets the Welcome marks received before `cutoff` (the retention
/// period: a fan-out older than that is not retried any more).
pub(super) async fn purge_welcome_marks(
    conn: &mut AnyConnection,
    cutoff: i64,
) -> Result<u64, StorageError> {
    Ok(
        sqlx::query("DELETE FROM replica_welcomes WHERE received_at < $1")
            .bind(cutoff)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
