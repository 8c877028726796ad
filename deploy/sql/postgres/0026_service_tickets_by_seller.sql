-- trade:outside-transaction
-- A seller's tickets, open or closed, newest first (R-ORD-6: GET /service-tickets?status=closed is a seller's history of
-- exceptions; without this a small seller's page read backwards through every seller's closed tickets).
-- Built CONCURRENTLY, outside a transaction, so the previous release's silos go on writing tickets meanwhile; under a new name
-- first, so a build cut short (an invalid index) is dropped and built again when the migration runs again.
DROP INDEX CONCURRENTLY IF EXISTS service_tickets_by_seller_building;
CREATE INDEX CONCURRENTLY service_tickets_by_seller_building ON service_tickets (seller_id, ticket_id);
DROP INDEX CONCURRENTLY IF EXISTS service_tickets_by_seller;
ALTER INDEX service_tickets_by_seller_building RENAME TO service_tickets_by_seller;
