-- Every change of an entry, in order: what WatchEntries streams, resumable from a sequence number.
CREATE TABLE ledger_changes (
    seq  bigserial PRIMARY KEY,
    root TEXT NOT NULL
);
