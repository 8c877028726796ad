-- trade:outside-transaction
-- Carriers' on-time and complaint rates (R-LOG-7): a shipped order's row also keeps where it went, when it shipped and when it
-- was delivered, and the buyer's complaint about its delivery (the reason of a dispute about it), written by the order's own
-- write; null until the order ships. Nullable columns with no default change only the catalogue (no rewrite, a brief lock).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS ship_country text;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS delivered_at timestamptz;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS complaint text;
-- Partial, as the tracking index: the rows a flash sale inserts (not shipped) have no entry. Built CONCURRENTLY under a new name
-- first, so a build cut short is dropped and built again when the migration runs again.
DROP INDEX CONCURRENTLY IF EXISTS orders_by_shipped_at_building;
CREATE INDEX CONCURRENTLY orders_by_shipped_at_building ON orders (shipped_at) WHERE shipped_at IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS orders_by_shipped_at;
ALTER INDEX orders_by_shipped_at_building RENAME TO orders_by_shipped_at;
