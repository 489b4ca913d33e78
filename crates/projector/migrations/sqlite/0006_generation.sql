-- Counts the batches written: a batch is worked out against one generation and written only if the ledger
-- is still at it, so batches of different feeds never overwrite each other's changes to one item.
CREATE TABLE ledger_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT  NOT NULL
);
INSERT INTO ledger_generation (id, generation) VALUES (1, 0);
