-- The event log of one agency store; see the PostgreSQL migration for why each table exists. Here one writer
-- at a time (BEGIN IMMEDIATE) gives dense, commit-ordered positions.
CREATE TABLE log_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    position  INTEGER NOT NULL
);
INSERT INTO log_head (singleton, position) VALUES (1, 0);

CREATE TABLE streams (
    stream_id TEXT    PRIMARY KEY,
    version   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    event_id       BLOB    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    district       TEXT    NOT NULL,
    agency         TEXT    NOT NULL,
    acting_unit    TEXT    NOT NULL,
    acting_role    TEXT    NOT NULL,
    request_id     BLOB    NOT NULL,
    correlation_id BLOB    NOT NULL,
    causation_id   BLOB,
    UNIQUE (stream_id, stream_version)
);

CREATE TABLE requests (
    request_id     BLOB    PRIMARY KEY,
    stream_id      TEXT    NOT NULL,
    fingerprint    BLOB    NOT NULL,
    first_version  INTEGER NOT NULL,
    last_version   INTEGER NOT NULL,
    first_position INTEGER NOT NULL,
    last_position  INTEGER NOT NULL,
    recorded_at    TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL -- unix milliseconds, so expiry compares as a number
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
) WITHOUT ROWID;
