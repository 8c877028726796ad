-- What the ledger's period queries cost on a large transfer table, and what a BRIN index on created_at changes (the journal,
-- "The ledger's period queries"). Builds a table of ledger_transfers' shape (migrations 0006 and 0019) with 2,000,000 rows over
-- 60 days in append order: a flash-sale seller with 1,000,000 of them and 10,000 small sellers sharing the rest. Then, without
-- and with the BRIN index: one day's statement of the big seller and of a small one (the statement endpoint's query) and one
-- day's IOSS tax statement (the tax endpoint's query, over every ledger), each EXPLAIN ANALYZE; and the time of 200,000 more
-- inserts, 100 a statement as a ledger's group commit sends them, with and without the index. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/ledger-period-queries.sql
-- It creates and drops a table of its own.
DROP TABLE IF EXISTS bench_ledger;
CREATE TABLE bench_ledger (
    entry_no bigint GENERATED ALWAYS AS IDENTITY, ledger_id text NOT NULL, transfer_id text COLLATE "C" NOT NULL,
    kind text NOT NULL, debit_account text NOT NULL, credit_account text NOT NULL, amount_minor bigint NOT NULL,
    currency char(3) NOT NULL, pending_id text, created_at timestamptz NOT NULL, PRIMARY KEY (ledger_id, transfer_id));
CREATE INDEX bench_ledger_replay ON bench_ledger (ledger_id, entry_no);
-- Every fifth row a released order's tax leg, the rest escrow holds; time rises with the row number.
INSERT INTO bench_ledger (ledger_id, transfer_id, kind, debit_account, credit_account, amount_minor, currency, created_at)
SELECT CASE WHEN n % 2 = 0 THEN 'seller-flash' ELSE 'seller-' || (n * 7919 % 10000) END,
       '01M92ERQ8CF84J' || lpad(n::text, 12, '0') || CASE WHEN n % 5 = 0 THEN ':tax' ELSE ':escrow' END,
       CASE WHEN n % 5 = 0 THEN 'Posted' ELSE 'Pending' END,
       CASE WHEN n % 5 = 0 THEN 'escrow:x' ELSE 'psp:clearing:EUR' END,
       CASE WHEN n % 5 = 0 THEN 'tax:payable:DE:EUR' ELSE 'escrow:x' END,
       1999, 'EUR', timestamptz '2026-10-01' + n * interval '2592 milliseconds'
FROM generate_series(1::bigint, 2000000) AS n;
VACUUM ANALYZE bench_ledger;
-- The statement endpoint's query (a big seller, a small one) and the tax endpoint's, for one day; and a flash sale's appends.
PREPARE big_statement AS SELECT created_at, transfer_id, kind, debit_account, credit_account, amount_minor, currency
FROM bench_ledger WHERE ledger_id = 'seller-flash' AND created_at >= '2026-11-20' AND created_at < '2026-11-21' ORDER BY entry_no LIMIT 100000;
PREPARE small_statement AS SELECT created_at, transfer_id, kind, debit_account, credit_account, amount_minor, currency
FROM bench_ledger WHERE ledger_id = 'seller-4243' AND created_at >= '2026-11-20' AND created_at < '2026-11-21' ORDER BY entry_no LIMIT 100000;
PREPARE tax_statement AS SELECT credit_account, currency, SUM(amount_minor), COUNT(*) FROM bench_ledger
WHERE kind = 'Posted' AND credit_account LIKE 'tax:payable:%' AND created_at >= '2026-11-20' AND created_at < '2026-11-21'
GROUP BY credit_account, currency ORDER BY credit_account, currency;
CREATE FUNCTION pg_temp.append_200000(prefix text, start timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..2000 LOOP
        INSERT INTO bench_ledger (ledger_id, transfer_id, kind, debit_account, credit_account, amount_minor, currency, created_at)
        SELECT 'seller-flash', prefix || lpad((i * 100 + g)::text, 12, '0') || ':escrow', 'Pending', 'psp:clearing:EUR', 'escrow:y', 1999, 'EUR',
               start + (i * 100 + g) * interval '1 millisecond'
        FROM generate_series(1, 100) AS g;
    END LOOP;
END $$;
\echo '--- without a created_at index'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE big_statement;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE small_statement;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE tax_statement;
\timing on
SELECT pg_temp.append_200000('A', '2026-12-01');
\timing off
CREATE INDEX bench_ledger_created_at ON bench_ledger USING brin (created_at);
ANALYZE bench_ledger;
\echo '--- with a BRIN index on created_at'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE big_statement;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE small_statement;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE tax_statement;
\timing on
SELECT pg_temp.append_200000('B', '2026-12-02');
\timing off
DROP TABLE bench_ledger;
