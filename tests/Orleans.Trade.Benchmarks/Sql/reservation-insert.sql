-- What ON CONFLICT costs a reservation insert (the journal, "Reservations as plain inserts"). Inserts 200,000 rows of
-- sku_reservations' shape, 100 a statement as a hot SKU's write sends them, once with the ON CONFLICT ... DO UPDATE the store
-- used for every opened reservation and once as plain inserts (what its one-round-trip write sends since), and prints the
-- time of each. Swap the two DO blocks to check the order does not decide it. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/reservation-insert.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_res_upsert, bench_res_plain;
CREATE TABLE bench_res_upsert (sku_id text NOT NULL, reservation_id text NOT NULL, parts json NOT NULL, reserved_at timestamptz NOT NULL,
    hold_until timestamptz, PRIMARY KEY (sku_id, reservation_id));
CREATE TABLE bench_res_plain (LIKE bench_res_upsert INCLUDING ALL);
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_res_upsert (sku_id, reservation_id, parts, reserved_at, hold_until)
        SELECT 'flash-sku-1', '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0') || ':0',
               CAST('[{"WarehouseId":"wh-de-1","Quantity":1,"PromisedShipDate":null}]' AS json), now(), now() + interval '15 minutes'
        FROM generate_series(1, 100) AS g
        ON CONFLICT (sku_id, reservation_id) DO UPDATE SET hold_until = excluded.hold_until;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_res_plain (sku_id, reservation_id, parts, reserved_at, hold_until)
        SELECT 'flash-sku-1', '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0') || ':0',
               CAST('[{"WarehouseId":"wh-de-1","Quantity":1,"PromisedShipDate":null}]' AS json), now(), now() + interval '15 minutes'
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_res_upsert, bench_res_plain;
