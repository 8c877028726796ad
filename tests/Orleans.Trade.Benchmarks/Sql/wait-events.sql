-- Where the client backends of a benchmark database spend their time while a scenario runs: samples pg_stat_activity about
-- every 5 ms, 2,500 times (about 12 s), from inside one session (a temporary table, so the sampling writes no WAL), then counts
-- the samples by wait event and by statement. A backend with no wait event is on a CPU or waiting for one. Start it as the
-- measured part of a scenario begins, against the scenario's database on the bench server (the harness prints the server's
-- folder; its port is in `ss -ltnp | grep postgres`), e.g. for the hot-SKU sale:
--   psql -h 127.0.0.1 -p <port> -U postgres -d bench_flash_sale -f tests/Orleans.Trade.Benchmarks/Sql/wait-events.sql
-- (the journal's "Where the hot write waits").
CREATE TEMP TABLE samples (ts timestamptz, pid int, wait_type text, wait_event text, query text);
DO $$
BEGIN
    FOR i IN 1..2500 LOOP
        -- pg_stat_activity is read once per transaction unless the snapshot is cleared.
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO samples
        SELECT clock_timestamp(), pid, wait_event_type, wait_event, left(regexp_replace(query, '\s+', ' ', 'g'), 50)
        FROM pg_stat_activity
        WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND datname = current_database();
        PERFORM pg_sleep(0.004);
    END LOOP;
END $$;
SELECT count(DISTINCT ts) AS samples_with_an_active_backend FROM samples;
SELECT coalesce(wait_type, 'CPU') AS wait_type, coalesce(wait_event, '-') AS wait_event, count(*) AS samples
FROM samples GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 15;
SELECT query, coalesce(wait_event, 'CPU') AS wait_event, count(*) AS samples
FROM samples GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 25;
