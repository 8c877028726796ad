-- The ledger's period queries (a seller's statement, the IOSS tax statement) filter on created_at: an index on it, so they
-- read the period's rows instead of the whole table (PostgreSQL has a BRIN index for it).
CREATE INDEX IF NOT EXISTS ledger_transfers_by_time ON ledger_transfers (created_at);
