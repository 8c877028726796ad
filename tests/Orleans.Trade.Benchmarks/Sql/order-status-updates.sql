-- What an order's status change costs its list row, with the orders table's pages full (fillfactor 100, PostgreSQL's
-- default) and with room left on each page for the row's next version (fillfactor 70, migration 0021). A status change
-- touches no indexed column, so PostgreSQL can write the new version on the same page without new index entries (a "HOT"
-- update), but only if that page has room. Inserts 200,000 rows of the orders table's shape (one seller, 256 buyers,
-- created_at rising, 100 a statement as a SKU's write sends them), then changes every order's status twice (paid, then
-- shipped) with the order store's upsert, 100 a statement, in a random order of orders. Prints the time of each phase, the
-- share of updates that were HOT, and the heap and index sizes. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/order-status-updates.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_orders_full, bench_orders_room;
CREATE TABLE bench_orders_full (order_id text PRIMARY KEY, buyer_id text NOT NULL, seller_id text NOT NULL, status text NOT NULL,
    seller_total_minor bigint NOT NULL, seller_currency char(3) NOT NULL, buyer_total_minor bigint NOT NULL,
    buyer_currency char(3) NOT NULL, line_count integer NOT NULL, source text NOT NULL, late boolean NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL);
CREATE TABLE bench_orders_room (LIKE bench_orders_full INCLUDING ALL) WITH (fillfactor = 70);
CREATE INDEX ON bench_orders_full (seller_id, created_at, order_id);
CREATE INDEX ON bench_orders_full (buyer_id, created_at, order_id);
CREATE INDEX ON bench_orders_room (seller_id, created_at, order_id);
CREATE INDEX ON bench_orders_room (buyer_id, created_at, order_id);
-- The order in which the status changes come: a fixed shuffle, the same for both tables.
CREATE TEMP TABLE bench_change_order AS SELECT g AS n, row_number() OVER (ORDER BY md5(g::text)) AS k FROM generate_series(1, 200000) AS g;
CREATE INDEX ON bench_change_order (k);
ANALYZE bench_change_order;
CREATE FUNCTION pg_temp.bench_fill(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 0..1999 LOOP
        EXECUTE format($q$INSERT INTO %s
            SELECT '01M92ERQ8CF84J' || lpad((%s * 100 + g)::text, 12, '0'), 'buyer-' || lpad((1 + (%s * 100 + g) * 7 %% 256)::text, 4, '0'),
                   'seller-flash', 'AwaitingPayment', 1999, 'USD', 1999, 'USD', 1, 'Checkout', false,
                   timestamptz '2026-12-05 12:00' + (%s * 100 + g) * interval '80 microseconds', now(), 1
            FROM generate_series(1, 100) AS g$q$, tbl, i, i, i);
    END LOOP;
END $$;
CREATE FUNCTION pg_temp.bench_change(tbl regclass, new_status text, new_version bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 0..1999 LOOP
        EXECUTE format($q$INSERT INTO %1$s AS o
            SELECT '01M92ERQ8CF84J' || lpad(c.n::text, 12, '0'), 'buyer-' || lpad((1 + c.n * 7 %% 256)::text, 4, '0'), 'seller-flash',
                   %2$L, 1999, 'USD', 1999, 'USD', 1, 'Checkout', false,
                   timestamptz '2026-12-05 12:00' + c.n * interval '80 microseconds', now(), %3$s
            FROM pg_temp.bench_change_order c WHERE c.k > %4$s * 100 AND c.k <= %4$s * 100 + 100
            ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, seller_total_minor = excluded.seller_total_minor,
                buyer_total_minor = excluded.buyer_total_minor, late = excluded.late, updated_at = excluded.updated_at,
                version = excluded.version
            WHERE o.version <= excluded.version$q$, tbl, new_status, new_version, i);
    END LOOP;
END $$;
\timing on
SELECT pg_temp.bench_fill('bench_orders_full');
SELECT pg_temp.bench_fill('bench_orders_room');
SELECT pg_temp.bench_change('bench_orders_full', 'Paid', 2);
SELECT pg_temp.bench_change('bench_orders_room', 'Paid', 2);
SELECT pg_temp.bench_change('bench_orders_full', 'Shipped', 3);
SELECT pg_temp.bench_change('bench_orders_room', 'Shipped', 3);
\timing off
SELECT pg_stat_force_next_flush();
SELECT pg_sleep(1.5);
SELECT relname, n_tup_upd AS updates, n_tup_hot_upd AS hot, round(100.0 * n_tup_hot_upd / nullif(n_tup_upd, 0), 1) AS hot_pct,
       pg_size_pretty(pg_relation_size(relid)) AS heap, pg_size_pretty(pg_indexes_size(relid)) AS indexes
FROM pg_stat_user_tables WHERE relname LIKE 'bench_orders_%' ORDER BY 1;
DROP TABLE bench_orders_full, bench_orders_room;
