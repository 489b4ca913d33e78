-- Personal data keys (PIPL, DESIGN §5): one data key per person, stored wrapped by the master key. Erasure
-- destroys the key (crypto-shredding): the person's encrypted fields in events can never be read again.
CREATE TABLE person_keys (
    person_ref  text        PRIMARY KEY,
    wrapped_key bytea,
    created_at  timestamptz NOT NULL,
    erased_at   timestamptz
);

-- Every read of personal data: who, from which unit, what, when and why. Append-only.
CREATE TABLE personal_data_reads (
    id         bigserial   PRIMARY KEY,
    read_at    timestamptz NOT NULL,
    reader     text        NOT NULL,
    unit       text        NOT NULL,
    person_ref text        NOT NULL,
    fields     text        NOT NULL,
    purpose    text        NOT NULL
);
