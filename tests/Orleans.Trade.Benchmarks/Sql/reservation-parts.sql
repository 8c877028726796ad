-- What parsing a reservation's parts into jsonb costs each insert (schema 0017 keeps them as json). Inserts 200,000 rows of
-- sku_reservations' shape, 100 a statement as a SKU's write sends them, once into a jsonb column and once into a json one,
-- and prints the time of each. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/reservation-parts.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_parts_jsonb, bench_parts_json;
CREATE TABLE bench_parts_jsonb (sku_id text, reservation_id text, parts jsonb NOT NULL, reserved_at timestamptz NOT NULL, PRIMARY KEY (sku_id, reservation_id));
CREATE TABLE bench_parts_json (sku_id text, reservation_id text, parts json NOT NULL, reserved_at timestamptz NOT NULL, PRIMARY KEY (sku_id, reservation_id));
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_parts_jsonb SELECT 'flash-sku-1', '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0') || ':0',
            CAST('[{"warehouseId":"wh-berlin-1","quantity":1,"promisedShipDate":"2026-12-08"}]' || repeat(' ', g % 2) AS jsonb), now()
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_parts_json SELECT 'flash-sku-1', '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0') || ':0',
            CAST('[{"warehouseId":"wh-berlin-1","quantity":1,"promisedShipDate":"2026-12-08"}]' || repeat(' ', g % 2) AS json), now()
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_parts_jsonb, bench_parts_json;
