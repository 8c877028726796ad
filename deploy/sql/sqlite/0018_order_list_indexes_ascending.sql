-- PostgreSQL only (the order lists' indexes in ascending key order, for how its B-tree splits pages); measured there only.
-- Kept so both providers share versions.
SELECT 1;
