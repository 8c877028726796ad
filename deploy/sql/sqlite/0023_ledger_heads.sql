-- A seller ledger's head: a version every append moves on by one, checked by the append (see the PostgreSQL migration of the
-- same number). A ledger with no head row is at version 0.
CREATE TABLE IF NOT EXISTS ledger_heads (
    ledger_id  TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL CHECK (version > 0)
);
