-- One database per agency's event store, and one for the ledger: no agency reads another's store.
CREATE DATABASE petition;
CREATE DATABASE public_security;
CREATE DATABASE political_legal;
CREATE DATABASE ledger;
