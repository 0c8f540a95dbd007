-- mimi-ds storage, SQLite flavour. Keep in step with ../postgres/0001_initial.sql:
-- same tables, columns and indexes; only the type names differ (BLOB/BYTEA,
-- INTEGER 0/1 vs BOOLEAN, AUTOINCREMENT vs IDENTITY). Times are Unix seconds.

-- One row per group id this DS ever handed out. The row is never deleted, so an
-- id is never issued twice; `revision` goes up by one on every state change and
-- is the compare-and-set token of `commit_group_change`; `next_seq` is the next
-- log sequence number, allocated under the row's write lock (gap-free).
CREATE TABLE groups (
    group_id    TEXT    NOT NULL PRIMARY KEY,
    status      TEXT    NOT NULL CHECK (status IN ('reserved', 'active', 'deleted')),
    reserved_at BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    epoch       BIGINT  NOT NULL DEFAULT 0,
    revision    BIGINT  NOT NULL DEFAULT 0,
    next_seq    BIGINT  NOT NULL DEFAULT 1,
    state       BLOB    NOT NULL DEFAULT x''
);
CREATE INDEX groups_reserved ON groups (reserved_at) WHERE status = 'reserved';

-- The group's append-only log: every handshake and application message,
-- stored once however many members the group has.
CREATE TABLE group_log (
    group_id   TEXT   NOT NULL REFERENCES groups (group_id),
    seq        BIGINT NOT NULL,
    sender     TEXT,
    message    BLOB   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, seq)
);
CREATE INDEX group_log_created_at ON group_log (created_at);

-- Which of this DS's clients may read which part of a group's log:
-- entries from_seq ..= until_seq (until_seq NULL while still a member).
-- A client removed and added again has one row per interval.
CREATE TABLE memberships (
    group_id  TEXT   NOT NULL REFERENCES groups (group_id),
    client_id TEXT   NOT NULL,
    from_seq  BIGINT NOT NULL,
    until_seq BIGINT,
    PRIMARY KEY (group_id, client_id, from_seq),
    CHECK (until_seq IS NULL OR until_seq >= from_seq - 1)
);
CREATE UNIQUE INDEX memberships_open ON memberships (group_id, client_id) WHERE until_seq IS NULL;
CREATE INDEX memberships_by_client ON memberships (client_id);

-- How far each client has acknowledged each group's log.
CREATE TABLE group_cursors (
    client_id TEXT   NOT NULL,
    group_id  TEXT   NOT NULL REFERENCES groups (group_id),
    acked_seq BIGINT NOT NULL,
    PRIMARY KEY (client_id, group_id)
);

-- Per-client personal inbox (Welcomes, DS notices): the counter row that
-- allocates gap-free inbox sequence numbers, and the acknowledged position.
CREATE TABLE inboxes (
    client_id TEXT   NOT NULL PRIMARY KEY,
    next_seq  BIGINT NOT NULL,
    acked_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE inbox_entries (
    client_id  TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    message    BLOB   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, seq)
);
CREATE INDEX inbox_entries_created_at ON inbox_entries (created_at);

-- Durable fan-out to other DS domains, written in the transaction that caused
-- it; delivered in id order per destination and deleted once acknowledged.
-- first_seq..=last_seq: the group log entries the fan-out belongs to, so the
-- receiving DS can store its replica under the same numbers.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT    NOT NULL,
    group_id    TEXT,
    first_seq   BIGINT,
    last_seq    BIGINT,
    payload     BLOB    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX outbox_by_destination ON outbox (destination, id);

CREATE TABLE clients (
    client_id     TEXT   NOT NULL PRIMARY KEY,
    signature_key BLOB   NOT NULL,
    registered_at BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE INDEX clients_last_seen ON clients (last_seen);

-- One-time registration tokens, stored only as hashes.
CREATE TABLE registration_tokens (
    token_hash BLOB   NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- Nonces of signed queue/key-package requests seen within the freshness window.
CREATE TABLE request_nonces (
    client_id TEXT   NOT NULL,
    nonce     BLOB   NOT NULL,
    seen_at   BIGINT NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX request_nonces_seen_at ON request_nonces (seen_at);

CREATE TABLE key_packages (
    client_id    TEXT    NOT NULL,
    kp_ref       BLOB    NOT NULL,
    connection   INTEGER NOT NULL CHECK (connection IN (0, 1)),
    last_resort  INTEGER NOT NULL CHECK (last_resort IN (0, 1)),
    not_after    BIGINT  NOT NULL,
    key_package  BLOB    NOT NULL,
    published_at BIGINT  NOT NULL,
    PRIMARY KEY (client_id, kp_ref)
);
CREATE INDEX key_packages_pick ON key_packages (client_id, connection, last_resort, not_after);
