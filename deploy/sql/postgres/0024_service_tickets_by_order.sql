-- An order's open tickets by the order (R-ORD-6): the change that ends an exception (a late order shipping, a stalled shipment
-- delivered, a review decided) closes its tickets in the order's own write; without this it read every open ticket.
CREATE INDEX IF NOT EXISTS service_tickets_open_by_order ON service_tickets (order_id) WHERE status = 'Open';
