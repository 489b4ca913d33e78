-- Where an event came from when it is not a live command: `import <sha-256 of the file> row <n>` for a
-- record brought in from a district's existing ledger. NULL for every live command.
ALTER TABLE events ADD COLUMN origin text;
