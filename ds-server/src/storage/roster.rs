//! Membership intervals: which part of a group's log each of this DS's
//! clients may read. A client added by the commit at sequence `N` reads from
//! `N + 1`; a client removed by the commit at `M` reads up to `M` inclusive,
//! so it learns that it was removed.

use sqlx::AnyConnection;

use super::StorageError;

/// Opens an interval from `from_seq` for each client. Adding a client that
/// is already a member changes nothing, so a caller's retry or a re-add in
/// one commit (remove + add) never fails the group operation.
pub(super) async fn open_memberships(
    conn: &mut AnyConnection,
    group_id: &str,
    clients: &[String],
    from_seq: i64,
) -> Result<(), StorageError> {
    for client_id in sorted(clients) {
        sqlx::query(
            "INSERT INTO memberships (group_id, client_id, from_seq) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(group_id)
        .bind(client_id)
        .bind(from_seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Closes each client's open interval at `until_seq`. Removing a client that
/// is not a member (never was, or was deleted with `delete_client`) changes
/// nothing: the roster of the MLS group, not this table, is authoritative.
pub(super) async fn close_memberships(
    conn: &mut AnyConnection,
    group_id: &str,
    clients: &[String],
    until_seq: i64,
) -> Result<(), StorageError> {
    for client_id in sorted(clients) {
        sqlx::query(
            "UPDATE memberships SET until_seq = $1
             WHERE group_id = $2 AND client_id = $3 AND until_seq IS NULL",
        )
        .bind(until_seq)
        .bind(group_id)
        .bind(client_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Closes every open interval at `until_seq` (the group is being deleted).
pub(super) async fn close_all_memberships(
    conn: &mut AnyConnection,
    group_id: &str,
    until_seq: i64,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE memberships SET until_seq = $1 WHERE group_id = $2 AND until_seq IS NULL")
        .bind(until_seq)
        .bind(group_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Clients in a fixed order, deduplicated: rows are locked in the same order by
/// every transaction, which keeps PostgreSQL free of deadlocks between them.
pub(super) fn sorted(clients: &[String]) -> Vec<&str> {
    let mut sorted: Vec<&str> = clients.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted
}
