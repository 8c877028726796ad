-- Sizes an idea, not a change (the journal, "One row per order?"): what a placed order's two rows cost PostgreSQL against one.
-- Today an order is a grain-state row (grain_state's shape: three-part text key, payload of about 700 bytes, wake time,
-- with the wake index) and a list row (the orders table's shape, with its two list indexes). The alternative keeps the
-- payload and wake time in the list row itself. Inserts 200,000 orders, 100 a statement, both ways, and prints the times.
-- Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/order-state-row.sql
-- It creates and drops four tables of its own.
DROP TABLE IF EXISTS bench_state, bench_list, bench_list_with_state, bench_seed;
CREATE TABLE bench_state (service_id text, state_name text, grain_id text, version integer NOT NULL, payload bytea NOT NULL,
    wake_at timestamptz, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (service_id, state_name, grain_id));
CREATE INDEX ON bench_state (service_id, wake_at) WHERE wake_at IS NOT NULL;
CREATE TABLE bench_list (order_id text PRIMARY KEY, buyer_id text NOT NULL, seller_id text NOT NULL, status text NOT NULL,
    seller_total_minor bigint NOT NULL, seller_currency char(3) NOT NULL, buyer_total_minor bigint NOT NULL,
    buyer_currency char(3) NOT NULL, line_count integer NOT NULL, source text NOT NULL, late boolean NOT NULL,
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL);
CREATE INDEX ON bench_list (seller_id, created_at DESC, order_id DESC);
CREATE INDEX ON bench_list (buyer_id, created_at DESC, order_id DESC);
CREATE TABLE bench_list_with_state (LIKE bench_list INCLUDING ALL);
ALTER TABLE bench_list_with_state ADD COLUMN payload bytea NOT NULL, ADD COLUMN wake_at timestamptz;
CREATE INDEX ON bench_list_with_state (wake_at) WHERE wake_at IS NOT NULL;
-- One payload of an order state's size, incompressible enough to be stored as it is.
CREATE TABLE bench_seed AS SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex') AS payload
    FROM generate_series(1, 700);
\timing on
DO $$
DECLARE p bytea := (SELECT payload FROM bench_seed);
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_state (service_id, state_name, grain_id, version, payload, wake_at)
        SELECT 'flash-sale', 'order', 'order/01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 1, p, now() + interval '30 minutes'
        FROM generate_series(1, 100) AS g;
        INSERT INTO bench_list
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || (g * 7 % 256), 'seller-flash', 'AwaitingPayment',
               1999, 'EUR', 1999, 'EUR', 1, 'checkout', false, now(), now(), 1
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
DO $$
DECLARE p bytea := (SELECT payload FROM bench_seed);
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_list_with_state
        SELECT '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'), 'buyer-' || (g * 7 % 256), 'seller-flash', 'AwaitingPayment',
               1999, 'EUR', 1999, 'EUR', 1, 'checkout', false, now(), now(), 1, p, now() + interval '30 minutes'
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_state, bench_list, bench_list_with_state, bench_seed;
