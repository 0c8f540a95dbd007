-- Federation delivery. Keep in step with ../sqlite/0004_outbox_delivery.sql.
--
-- Each outbox row belongs to exactly one log entry (a welcome: the commit
-- that added its recipients), whose number the sender writes into the
-- fan-out entry; an operation storing several entries writes several rows.
ALTER TABLE outbox RENAME COLUMN last_seq TO seq;
ALTER TABLE outbox DROP COLUMN first_seq;

-- Which DS process delivers to a destination: only the holder of an
-- unexpired lease sends, so replicas on one database never race.
CREATE TABLE outbox_leases (
    destination TEXT   NOT NULL PRIMARY KEY,
    holder      TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Fan-outs a destination refused on their own (e.g. a recipient it no longer
-- knows): moved here so they stop blocking the destination, kept for the
-- operator with the refusal.
CREATE TABLE outbox_dead_letters (
    id          BIGINT  NOT NULL PRIMARY KEY,
    destination TEXT    NOT NULL,
    group_id    TEXT,
    seq         BIGINT,
    payload     BYTEA      NOT NULL,
    created_at  BIGINT  NOT NULL,
    dropped_at  BIGINT  NOT NULL,
    reason      TEXT    NOT NULL
);
CREATE INDEX outbox_dead_letters_by_destination ON outbox_dead_letters (destination, id);
