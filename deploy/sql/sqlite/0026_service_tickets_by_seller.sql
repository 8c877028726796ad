-- A seller's tickets, open or closed, newest first (see the PostgreSQL migration of the same number).
CREATE INDEX IF NOT EXISTS service_tickets_by_seller ON service_tickets (seller_id, ticket_id);
