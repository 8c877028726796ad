-- A shipped order's carrier and tracking number, by which a carrier's feed finds it, and a stalled-shipment ticket's proposed
-- remedy (see the PostgreSQL migration of the same number).
ALTER TABLE orders ADD COLUMN carrier_key TEXT;
ALTER TABLE orders ADD COLUMN tracking_key TEXT;
ALTER TABLE service_tickets ADD COLUMN remedy TEXT;
CREATE INDEX IF NOT EXISTS orders_by_tracking ON orders (carrier_key, tracking_key) WHERE tracking_key IS NOT NULL;
