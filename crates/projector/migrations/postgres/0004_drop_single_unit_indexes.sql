-- The (unit, root) indexes of 0003 serve every lookup by unit alone too; the single-column ones only cost
-- each write of an item two more index updates.
DROP INDEX IF EXISTS ledger_items_responsible_unit;
DROP INDEX IF EXISTS ledger_items_territorial_unit;
