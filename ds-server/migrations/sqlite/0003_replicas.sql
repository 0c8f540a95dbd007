-- Guest side of federation: replicas of other domains' groups. Keep in step
-- with ../postgres/0003_replicas.sql.
--
-- A replica keeps, under the owning DS's sequence numbers, the log entries of
-- another domain's group that this DS's clients may see, so they read it from
-- their home DS exactly like a local group. It has a `groups` row (status
-- 'active'; `next_seq` is one past the highest entry received, which bounds
-- sync reads and purging as for a local group; epoch and revision unused) so
-- group_log, memberships and group_cursors keep their foreign keys. It has no
-- group_states row: the DS never loads it as a group of its own.
CREATE TABLE replica_groups (
    group_id   TEXT   NOT NULL PRIMARY KEY REFERENCES groups (group_id),
    owner      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- Welcomes received for a replica, by the commit they belong to and the
-- SHA-256 of the Welcome: one commit may carry several Welcomes for one
-- destination, and a repeated fan-out must not deliver one twice. Purged
-- with the retention period.
CREATE TABLE replica_welcomes (
    group_id    TEXT   NOT NULL REFERENCES groups (group_id),
    seq         BIGINT NOT NULL,
    digest      BLOB   NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, seq, digest)
);
CREATE INDEX replica_welcomes_received_at ON replica_welcomes (received_at);
