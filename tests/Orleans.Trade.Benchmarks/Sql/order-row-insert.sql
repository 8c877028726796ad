-- What merging costs an order's list row (README, "Plain inserts for the rows of orders a SKU places"). Inserts 200,000 rows
-- of the orders table's shape, with its two list indexes, 100 a statement, once with the ON CONFLICT ... DO UPDATE merge the
-- order store uses for rows that may be stored already and once as plain inserts (what a SKU's write sends for the orders it
-- places), and prints the time of each. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/order-row-insert.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_orders_merge, bench_orders_plain;
CREATE TABLE bench_orders_merge (order_id text PRIMARY KEY, buyer_id text NOT NULL, seller_id text NOT NULL, status text NOT NULL,
    total_minor bigint NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    version bigint NOT NULL);
CREATE INDEX ON bench_orders_merge (seller_id, created_at DESC, order_id DESC);
CREATE INDEX ON bench_orders_merge (buyer_id, created_at DESC, order_id DESC);
CREATE TABLE bench_orders_plain (LIKE bench_orders_merge INCLUDING ALL);
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_orders_merge
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || (g * 7 % 256), 'seller-flash', 'AwaitingPayment',
               1999, 'USD', now(), now(), 1
        FROM generate_series(1, 100) AS g
        ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, total_minor = excluded.total_minor,
            updated_at = excluded.updated_at, version = excluded.version
        WHERE bench_orders_merge.version <= excluded.version;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_orders_plain
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || (g * 7 % 256), 'seller-flash', 'AwaitingPayment',
               1999, 'USD', now(), now(), 1
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_orders_merge, bench_orders_plain;
