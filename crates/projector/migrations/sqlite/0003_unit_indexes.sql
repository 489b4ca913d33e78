-- A unit's ledger is listed in root order: composite indexes let each unit column be range-scanned in that
-- order, the two scans merged by a UNION.
DROP INDEX ledger_items_responsible_unit;
DROP INDEX ledger_items_territorial_unit;
CREATE INDEX ledger_items_responsible_unit_root ON ledger_items (responsible_unit, root);
CREATE INDEX ledger_items_territorial_unit_root ON ledger_items (territorial_unit, root);
