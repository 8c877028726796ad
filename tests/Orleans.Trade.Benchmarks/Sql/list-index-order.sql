-- What the order lists' key order costs a hot seller's list-row inserts (the journal, "The order lists' indexes, ascending";
-- migration 0018). Inserts 200,000 rows of the orders table's shape, one seller, 256 buyers, created_at rising, 100 a
-- statement as a SKU's write sends them, once with the list indexes descending (as before 0018) and once ascending, prints
-- the time of each and the sizes. Swap the two DO blocks to check the order does not decide it. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/list-index-order.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_orders_desc, bench_orders_asc;
CREATE TABLE bench_orders_desc (order_id text PRIMARY KEY, buyer_id text NOT NULL, seller_id text NOT NULL, status text NOT NULL,
    total_minor bigint NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    version bigint NOT NULL);
CREATE TABLE bench_orders_asc (LIKE bench_orders_desc INCLUDING ALL);
CREATE INDEX ON bench_orders_desc (seller_id, created_at DESC, order_id DESC);
CREATE INDEX ON bench_orders_desc (buyer_id, created_at DESC, order_id DESC);
CREATE INDEX ON bench_orders_asc (seller_id, created_at, order_id);
CREATE INDEX ON bench_orders_asc (buyer_id, created_at, order_id);
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_orders_desc
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || lpad((1 + (i * 100 + g) * 7 % 256)::text, 4, '0'), 'seller-flash', 'AwaitingPayment',
               1999, 'USD', timestamptz '2026-12-05 12:00' + (i * 100 + g) * interval '80 microseconds', now(), 1
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_orders_asc
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || lpad((1 + (i * 100 + g) * 7 % 256)::text, 4, '0'), 'seller-flash', 'AwaitingPayment',
               1999, 'USD', timestamptz '2026-12-05 12:00' + (i * 100 + g) * interval '80 microseconds', now(), 1
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
SELECT c.relname, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE 'bench_orders_%' ORDER BY 1;
DROP TABLE bench_orders_desc, bench_orders_asc;
