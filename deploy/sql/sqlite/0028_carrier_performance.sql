-- Carriers' on-time and complaint rates: a shipped order's destination, shipping and delivery times, and the buyer's complaint
-- about its delivery (see the PostgreSQL migration of the same number).
ALTER TABLE orders ADD COLUMN ship_country TEXT;
ALTER TABLE orders ADD COLUMN shipped_at INTEGER;
ALTER TABLE orders ADD COLUMN delivered_at INTEGER;
ALTER TABLE orders ADD COLUMN complaint TEXT;
CREATE INDEX IF NOT EXISTS orders_by_shipped_at ON orders (shipped_at) WHERE shipped_at IS NOT NULL;
