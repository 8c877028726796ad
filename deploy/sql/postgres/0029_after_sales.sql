-- The after-sales service score (R-DAT-4): an order's row also keeps what the buyer had back (refunds and compensations, in the
-- order's currency), its dispute's opening, end and outcome, and whether a return was asked for, written by the order's own write;
-- null until the order has one of them (the rows a flash sale inserts never do). Nullable columns with no default change only the
-- catalogue (no rewrite, a brief lock). No index: the score counts every order of a window, read through the seller's index or
-- the table, and these columns only add to what those rows say.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS refunded_minor bigint;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS dispute_opened_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS dispute_resolved_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS dispute_outcome text;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS returned boolean;
