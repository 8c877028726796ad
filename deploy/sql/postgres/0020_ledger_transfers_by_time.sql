-- trade:outside-transaction
-- The ledger's period queries (a seller's statement, the IOSS tax statement over every ledger) filter on created_at, which no
-- index covered: each read the whole transfer table (2,000,000 rows: 142-146 ms for one day of a big seller's statement,
-- 148-156 ms for one day's tax statement; tests/Orleans.Trade.Benchmarks/Sql/ledger-period-queries.sql). Transfers are
-- appended in time order, so a BRIN index (a few pages, one summary per 128 table pages) finds a period's pages: 14.5-15.6 ms
-- and 7.8-8.2 ms there, and it costs inserts about 0.4 us a row. Built CONCURRENTLY, outside a transaction, so the previous
-- release's silos go on appending; a build cut short leaves an invalid index, dropped first when this runs again.
DROP INDEX CONCURRENTLY IF EXISTS ledger_transfers_by_time;
CREATE INDEX CONCURRENTLY ledger_transfers_by_time ON ledger_transfers USING brin (created_at);
