-- How much a linguistic default collation costs key-index inserts (README, "A local PostgreSQL cluster"). Inserts 200,000 rows
-- of grain_state's key shape (three text columns in the primary key), 100 a statement, once with byte-order (C) keys and once
-- with ICU en-US keys, and prints the time of each. Run against any scratch database of a server built with ICU:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/key-collation.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_keys_c, bench_keys_icu;
CREATE TABLE bench_keys_c (service_id text COLLATE "C", state_name text COLLATE "C", grain_id text COLLATE "C", payload bytea,
    PRIMARY KEY (service_id, state_name, grain_id));
CREATE TABLE bench_keys_icu (service_id text COLLATE "en-US-x-icu", state_name text COLLATE "en-US-x-icu",
    grain_id text COLLATE "en-US-x-icu", payload bytea, PRIMARY KEY (service_id, state_name, grain_id));
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_keys_c
        SELECT 'flash-sale', CASE WHEN g % 2 = 0 THEN 'order' ELSE 'checkout' END,
               'order/01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 10, '0'), '\x00'
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_keys_icu
        SELECT 'flash-sale', CASE WHEN g % 2 = 0 THEN 'order' ELSE 'checkout' END,
               'order/01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 10, '0'), '\x00'
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_keys_c, bench_keys_icu;
