-- Personal data keys and the audit of their reads; see the PostgreSQL migration.
CREATE TABLE person_keys (
    person_ref  TEXT PRIMARY KEY,
    wrapped_key BLOB,
    created_at  TEXT NOT NULL,
    erased_at   TEXT
) WITHOUT ROWID;

CREATE TABLE personal_data_reads (
    id         INTEGER PRIMARY KEY,
    read_at    TEXT NOT NULL,
    reader     TEXT NOT NULL,
    unit       TEXT NOT NULL,
    person_ref TEXT NOT NULL,
    fields     TEXT NOT NULL,
    purpose    TEXT NOT NULL
);
