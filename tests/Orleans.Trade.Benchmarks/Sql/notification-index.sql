-- What order_notifications' by-order index cost each notification insert (the journal, "The notification outbox's unused
-- index"; dropped by migration 0016). Inserts 200,000 rows of the outbox's shape, 100 a statement as a SKU's write sends
-- them, once with the primary key, the due index and the by-order index and once without the by-order index, and prints the
-- time of each. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/notification-index.sql
-- It creates and drops two tables of its own.
DROP TABLE IF EXISTS bench_notes_by_order, bench_notes_due_only;
CREATE TABLE bench_notes_by_order (notification_id text PRIMARY KEY, order_id text NOT NULL, recipient text NOT NULL,
    channels text NOT NULL, event text NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamptz NOT NULL, delivered_at timestamptz, failed_at timestamptz,
    last_error text);
CREATE INDEX ON bench_notes_by_order (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE TABLE bench_notes_due_only (LIKE bench_notes_by_order INCLUDING ALL);
CREATE INDEX ON bench_notes_by_order (order_id);
\timing on
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_notes_by_order (notification_id, order_id, recipient, channels, event, status, created_at, next_attempt_at)
        SELECT '01M92ERQ8CF84K' || lpad((i * 100 + g)::text, 12, '0'), '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'),
               'seller-flash', 'webhook', 'Placed', 'AwaitingPayment', now(), now()
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
DO $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_notes_due_only (notification_id, order_id, recipient, channels, event, status, created_at, next_attempt_at)
        SELECT '01M92ERQ8CF84K' || lpad((i * 100 + g)::text, 12, '0'), '01M92ERQ8CF84J' || lpad((i * 100 + g)::text, 12, '0'),
               'seller-flash', 'webhook', 'Placed', 'AwaitingPayment', now(), now()
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\timing off
DROP TABLE bench_notes_by_order, bench_notes_due_only;
