-- The after-sales service score: what the buyer had back, the dispute's opening, end and outcome, and whether a return was asked
-- for (see the PostgreSQL migration of the same number).
ALTER TABLE orders ADD COLUMN refunded_minor INTEGER;
ALTER TABLE orders ADD COLUMN dispute_opened_at INTEGER;
ALTER TABLE orders ADD COLUMN dispute_resolved_at INTEGER;
ALTER TABLE orders ADD COLUMN dispute_outcome TEXT;
ALTER TABLE orders ADD COLUMN returned INTEGER;
