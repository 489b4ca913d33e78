-- Every unit taking part in an item besides its responsible and territorial unit (reviewers, a reporting
-- station, co-handlers, stations that joined, an order's issuer): a unit's ledger lists every entry it takes
-- part in. Written with each item; the pending backfill fills it for items applied before this migration.
CREATE TABLE ledger_item_units (
    unit TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (unit, item)
) WITHOUT ROWID;
CREATE INDEX ledger_item_units_item ON ledger_item_units (item);
-- A territory sees what arises in it.
CREATE INDEX ledger_items_territory_root ON ledger_items (territory, root);
-- Work a migration leaves for the ledger to do from its items' state, removed once done.
CREATE TABLE ledger_backfills (name TEXT PRIMARY KEY);
INSERT INTO ledger_backfills (name) VALUES ('item_units');
