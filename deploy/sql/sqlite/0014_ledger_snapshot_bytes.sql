-- Seller ledger snapshots are stored as the UTF-8 bytes of their JSON from now on (see the PostgreSQL script of the same
-- number). SQLite keeps each value's own type, so the column stays as it is: snapshots stored before as text still load.
SELECT 1;
