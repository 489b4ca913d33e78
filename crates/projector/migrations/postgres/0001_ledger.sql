-- The ledger read model. Rebuildable from the agencies' streams at any time; holds no personal data.
-- One row per item with its state as JSON (evolved by the domain's own rules) and the columns lists filter on.
CREATE TABLE ledger_items (
    item             TEXT    PRIMARY KEY,
    root             TEXT    NOT NULL,
    agency           TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    stage            TEXT    NOT NULL,
    closed           boolean NOT NULL,
    responsible_unit TEXT,
    territorial_unit TEXT,
    territory        TEXT,
    state            TEXT    NOT NULL
);
CREATE INDEX ledger_items_root ON ledger_items (root);
CREATE INDEX ledger_items_responsible_unit ON ledger_items (responsible_unit);
CREATE INDEX ledger_items_territorial_unit ON ledger_items (territorial_unit);

-- The root of every linked item; a link may name an item the ledger has not seen yet.
CREATE TABLE ledger_links (
    item TEXT PRIMARY KEY,
    root TEXT NOT NULL
);

-- The last version applied of every stream: a redelivered event changes nothing.
CREATE TABLE ledger_streams (
    agency  TEXT NOT NULL,
    stream  TEXT NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (agency, stream)
);

-- Every item event as a timeline line.
CREATE TABLE ledger_timeline (
    agency      TEXT NOT NULL,
    position    bigint NOT NULL,
    item        TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    acting_unit TEXT NOT NULL,
    PRIMARY KEY (agency, position)
);
CREATE INDEX ledger_timeline_item ON ledger_timeline (item);

-- How far each feed has been applied, written in the same transaction as the batch.
CREATE TABLE ledger_checkpoints (
    feed     TEXT PRIMARY KEY,
    position bigint NOT NULL
);

-- Events the model could not apply, parked for an operator to inspect and replay; never dropped.
CREATE TABLE ledger_parked (
    agency     TEXT NOT NULL,
    position   bigint NOT NULL,
    event_type TEXT NOT NULL,
    reason     TEXT NOT NULL,
    event      TEXT NOT NULL,
    PRIMARY KEY (agency, position)
);
