-- The group state moves out of `groups` into its own table. Every
-- application message updates its group's row (`next_seq`); with the state
-- in another table that update never touches the blob. Keep in step with
-- ../sqlite/0002_group_states.sql.
CREATE TABLE group_states (
    group_id TEXT  NOT NULL PRIMARY KEY REFERENCES groups (group_id),
    state    BYTEA NOT NULL
);
INSERT INTO group_states (group_id, state)
    SELECT group_id, state FROM groups WHERE status = 'active';
ALTER TABLE groups DROP COLUMN state;
