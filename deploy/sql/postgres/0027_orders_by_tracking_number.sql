-- trade:outside-transaction
-- A carrier's feed names its shipments by its tracking numbers, not by our order ids (R-LOG-5): a shipped order's row keeps
-- its carrier and tracking number as ShipmentKeys writes them (letters and digits; null until the order ships), written by
-- the order's own write. Adding nullable columns with no default changes only the catalogue (no rewrite, a brief lock).
ALTER TABLE orders ADD COLUMN IF NOT EXISTS carrier_key text;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS tracking_key text;
-- The remedy a stalled-shipment ticket proposes to customer service (R-LOG-6); null on every other ticket.
ALTER TABLE service_tickets ADD COLUMN IF NOT EXISTS remedy text;
-- Partial: an unshipped order (every row a flash sale inserts) has no entry, so inserts pay nothing for it. Built
-- CONCURRENTLY, outside a transaction, so the previous release's silos go on writing orders meanwhile; under a new name first,
-- so a build cut short (an invalid index) is dropped and built again when the migration runs again.
DROP INDEX CONCURRENTLY IF EXISTS orders_by_tracking_building;
CREATE INDEX CONCURRENTLY orders_by_tracking_building ON orders (carrier_key, tracking_key) WHERE tracking_key IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS orders_by_tracking;
ALTER INDEX orders_by_tracking_building RENAME TO orders_by_tracking;
