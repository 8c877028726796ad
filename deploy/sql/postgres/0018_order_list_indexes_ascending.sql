-- The order lists' indexes in ascending key order. Lists read newest first (ORDER BY created_at DESC, order_id DESC), which
-- PostgreSQL serves by scanning these backwards at the same cost. But a seller's new orders carry the newest created_at: kept
-- descending, each went to the left end of the seller's range, so every full leaf page split in half and the index of a
-- hot seller stayed about half empty. Ascending, each goes to the right end, where PostgreSQL splits a page just after the
-- new entry and leaves the old page full (200,000 list rows of one seller: the seller index 15 MB instead of 26 MB, the
-- inserts 0.5-1.1 us a row faster; tests/Orleans.Trade.Benchmarks/Sql/list-index-order.sql). The buyer index changes for
-- symmetry (buyers' orders interleave, so it splits alike either way). The indexes are rebuilt here, blocking order writes
-- for as long as the build takes: run it in a maintenance window on a large orders table.
DROP INDEX IF EXISTS orders_by_seller;
CREATE INDEX orders_by_seller ON orders (seller_id, created_at, order_id);
DROP INDEX IF EXISTS orders_by_buyer;
CREATE INDEX orders_by_buyer ON orders (buyer_id, created_at, order_id);
