-- An order's list row changes with each of its status changes (paid, shipped, delivered, ...), and no status change touches
-- an indexed column. With room left on the row's page, PostgreSQL writes the new version beside the old one, adds no entry to
-- the row's three indexes (a heap-only, "HOT", update) and prunes the old version on a later visit without waiting for vacuum.
-- With the default full pages (fillfactor 100) hardly any of these updates was HOT. 200,000 orders, each changed twice, 100 a
-- statement (tests/Orleans.Trade.Benchmarks/Sql/order-status-updates.sql, two runs): 4.4-4.5 s and 2.9-3.0 s instead of
-- 5.6-6.5 s and 4.7-5.0 s, 57% of the updates HOT instead of none, a heap of 86 MB instead of 95 MB; inserts unchanged.
-- Pages written from now on keep 30% free; rows stored before stay where they are until the table is rewritten. The lock
-- this takes (SHARE UPDATE EXCLUSIVE) lets reads and writes go on.
ALTER TABLE orders SET (fillfactor = 70);
