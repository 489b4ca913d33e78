-- What operators did with parked events (`oneledger admin parked drop|retry`): who, when, why, and the
-- event itself, so a dropped event is never lost from the record.
CREATE TABLE ledger_parked_actions (
    acted_at   TEXT NOT NULL,
    operator   TEXT NOT NULL,
    action     TEXT NOT NULL,
    why        TEXT NOT NULL,
    agency     TEXT NOT NULL,
    position   BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    reason     TEXT NOT NULL,
    event      TEXT NOT NULL
);
