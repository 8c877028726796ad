-- PostgreSQL only (transfer ids compared bytewise, so an order's transfers are a range of the key); SQLite's text comparison
-- is bytewise already. Kept so both providers share versions.
SELECT 1;
