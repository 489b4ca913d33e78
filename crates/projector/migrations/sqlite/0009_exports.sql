-- Every spreadsheet export of the ledger: who (unit, role, subject), what (the query), when, and the
-- ledger cursor it was read at. Kept as a record of access, never rebuilt from the agencies' streams.
CREATE TABLE ledger_exports (
    export_id   TEXT PRIMARY KEY,
    exported_at TEXT NOT NULL,
    subject     TEXT NOT NULL,
    unit        TEXT NOT NULL,
    roles       TEXT NOT NULL,
    what        TEXT NOT NULL,
    format      TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    as_of       BIGINT NOT NULL
);
