-- An order's open tickets by the order (see the PostgreSQL migration of the same number).
CREATE INDEX IF NOT EXISTS service_tickets_open_by_order ON service_tickets (order_id) WHERE status = 'Open';
