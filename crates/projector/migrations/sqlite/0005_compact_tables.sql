-- Small rows keyed by their primary key are kept in that key's b-tree alone (WITHOUT ROWID), so each write
-- updates one b-tree instead of a table and its key's index; the change log drops AUTOINCREMENT's extra
-- table (rows are never deleted, so a rowid is never reused as a watch cursor).
CREATE TABLE ledger_timeline_compact (
    agency      TEXT NOT NULL,
    position    INTEGER NOT NULL,
    item        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    acting_unit TEXT NOT NULL,
    PRIMARY KEY (agency, position)
) WITHOUT ROWID;
INSERT INTO ledger_timeline_compact SELECT agency, position, item, occurred_at, event_type, acting_unit
    FROM ledger_timeline;
DROP TABLE ledger_timeline;
ALTER TABLE ledger_timeline_compact RENAME TO ledger_timeline;
CREATE INDEX ledger_timeline_item ON ledger_timeline (item);

CREATE TABLE ledger_streams_compact (
    agency  TEXT NOT NULL,
    stream  TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (agency, stream)
) WITHOUT ROWID;
INSERT INTO ledger_streams_compact SELECT agency, stream, version FROM ledger_streams;
DROP TABLE ledger_streams;
ALTER TABLE ledger_streams_compact RENAME TO ledger_streams;

CREATE TABLE ledger_changes_plain (
    seq  INTEGER PRIMARY KEY,
    root TEXT NOT NULL
);
INSERT INTO ledger_changes_plain SELECT seq, root FROM ledger_changes;
DROP TABLE ledger_changes;
ALTER TABLE ledger_changes_plain RENAME TO ledger_changes;
