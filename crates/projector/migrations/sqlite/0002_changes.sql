-- Every change of an entry, in order: what WatchEntries streams, resumable from a sequence number.
CREATE TABLE ledger_changes (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL
);
