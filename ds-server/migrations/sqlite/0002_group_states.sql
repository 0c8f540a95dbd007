-- The group state moves out of `groups` into its own table. Every
-- application message updates its group's row (`next_seq`), and SQLite
-- rewrites a row whole, so a state blob in that row (hundreds of KiB for a
-- large group) made each message cost O(group size). Keep in step with
-- ../postgres/0002_group_states.sql.
CREATE TABLE group_states (
    group_id TEXT NOT NULL PRIMARY KEY REFERENCES groups (group_id),
    state    BLOB NOT NULL
);
INSERT INTO group_states (group_id, state)
    SELECT group_id, state FROM groups WHERE status = 'active';
ALTER TABLE groups DROP COLUMN state;
