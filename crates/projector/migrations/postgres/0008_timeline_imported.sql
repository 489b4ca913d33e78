-- Whether a timeline line is of an imported record (its event has an origin), so statistics can count a
-- period with or without what was brought in from a district's existing ledger.
ALTER TABLE ledger_timeline ADD COLUMN imported BOOLEAN NOT NULL DEFAULT FALSE;
