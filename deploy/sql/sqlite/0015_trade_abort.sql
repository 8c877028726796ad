-- PostgreSQL's script of the same number adds trade_abort() for the SKU write that goes out in one round trip; SQLite writes a
-- SKU statement by statement in its own transaction and needs nothing.
SELECT 1;
