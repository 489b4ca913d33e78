-- The event log of one agency store. Positions are allocated from log_head, whose row lock is held until
-- COMMIT, so positions are dense and commit in order: catch-up readers need no gap detection.
CREATE TABLE log_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position  bigint  NOT NULL
);
INSERT INTO log_head (singleton, position) VALUES (true, 0);

-- Current version of every stream, read under the log_head lock to check expected versions.
CREATE TABLE streams (
    stream_id text   PRIMARY KEY,
    version   bigint NOT NULL
);

CREATE TABLE events (
    position       bigint      PRIMARY KEY,
    stream_id      text        NOT NULL,
    stream_version bigint      NOT NULL,
    event_id       uuid        NOT NULL UNIQUE,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    data           json        NOT NULL, -- json keeps the text as written; the log is read whole, never queried by content
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL,
    district       text        NOT NULL,
    agency         text        NOT NULL,
    acting_unit    text        NOT NULL,
    acting_role    text        NOT NULL,
    request_id     uuid        NOT NULL,
    correlation_id uuid        NOT NULL,
    causation_id   uuid,
    UNIQUE (stream_id, stream_version)
);

-- One row per successful append: what a retry under the same request id is answered with.
CREATE TABLE requests (
    request_id     uuid        PRIMARY KEY,
    stream_id      text        NOT NULL,
    fingerprint    bytea       NOT NULL,
    first_version  bigint      NOT NULL,
    last_version   bigint      NOT NULL,
    first_position bigint      NOT NULL,
    last_position  bigint      NOT NULL,
    recorded_at    timestamptz NOT NULL
);

-- Leases decide which process runs a singleton task (the outbox relay); checkpoints record its progress.
CREATE TABLE leases (
    name       text        PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL,
    updated_at timestamptz NOT NULL
);
