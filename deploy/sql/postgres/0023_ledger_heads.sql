-- A seller ledger's head: a version every append moves on by one, checked by the append itself. Orleans keeps one activation
-- per ledger, but during a partition or a membership change two silos can briefly each hold one; without a check both would
-- append transfers computed from books that miss the other's, and a snapshot by one could claim to cover the other's. Now an
-- append names the version its books were loaded at and is refused (nothing stored) when another writer appended since; the
-- refused activation is dropped and the next one loads both. A ledger with no head row is at version 0 (every ledger
-- written before this migration): its first append creates the row.
CREATE TABLE IF NOT EXISTS ledger_heads (
    ledger_id  text   PRIMARY KEY,
    version    bigint NOT NULL CHECK (version > 0)
);
