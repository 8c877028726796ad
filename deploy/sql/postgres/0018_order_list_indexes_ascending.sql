-- trade:outside-transaction
-- The order lists' indexes in ascending key order. Lists read newest first (ORDER BY created_at DESC, order_id DESC), which
-- PostgreSQL serves by scanning these backwards at the same cost. But a seller's new orders carry the newest created_at: kept
-- descending, each went to the left end of the seller's range, so every full leaf page split in half and the index of a
-- hot seller stayed about half empty. Ascending, each goes to the right end, where PostgreSQL splits a page just after the
-- new entry and leaves the old page full (200,000 list rows of one seller: the seller index 15 MB instead of 26 MB, the
-- inserts 0.5-1.1 us a row faster; tests/Orleans.Trade.Benchmarks/Sql/list-index-order.sql). The buyer index changes for
-- symmetry (buyers' orders interleave, so it splits alike either way).
-- Built CONCURRENTLY, outside a transaction, so the previous release's silos go on writing orders meanwhile. Each index is
-- built under a new name, the old one dropped, the new one renamed: safe to run again from any point (a build cut short
-- leaves an invalid index under the new name, dropped first).
DROP INDEX CONCURRENTLY IF EXISTS orders_by_seller_ascending;
CREATE INDEX CONCURRENTLY orders_by_seller_ascending ON orders (seller_id, created_at, order_id);
DROP INDEX CONCURRENTLY IF EXISTS orders_by_seller;
ALTER INDEX orders_by_seller_ascending RENAME TO orders_by_seller;
DROP INDEX CONCURRENTLY IF EXISTS orders_by_buyer_ascending;
CREATE INDEX CONCURRENTLY orders_by_buyer_ascending ON orders (buyer_id, created_at, order_id);
DROP INDEX CONCURRENTLY IF EXISTS orders_by_buyer;
ALTER INDEX orders_by_buyer_ascending RENAME TO orders_by_buyer;
