-- What a page of a big seller's order list costs by page number (OFFSET, with the COUNT the page-numbered list answers) and
-- by cursor (keyset: the rows after the last one shown) (the journal, "Order lists by cursor"). Builds a table of the orders
-- projection's shape with its list indexes (0003, 0018): 450,000 orders over 75 minutes, 300,000 of them one flash-sale
-- seller's, every tenth paid. Prints the time of the count, of the first page and of a page 200,000 orders deep, both ways,
-- with and without a status filter. Run against any scratch database:
--   psql "<connection string>" -f tests/Orleans.Trade.Benchmarks/Sql/order-list-paging.sql
-- It creates and drops a table of its own.
DROP TABLE IF EXISTS bench_list;
CREATE TABLE bench_list (order_id text PRIMARY KEY, buyer_id text NOT NULL, seller_id text NOT NULL, status text NOT NULL,
    seller_total_minor bigint NOT NULL, seller_currency char(3) NOT NULL, buyer_total_minor bigint NOT NULL, buyer_currency char(3) NOT NULL,
    line_count integer NOT NULL, source text NOT NULL, late boolean NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
    version bigint NOT NULL);
CREATE INDEX bench_list_by_seller ON bench_list (seller_id, created_at, order_id);
CREATE INDEX bench_list_by_buyer ON bench_list (buyer_id, created_at, order_id);
INSERT INTO bench_list
SELECT '01M92ERQ8CF84J' || lpad(n::text, 12, '0'), 'buyer-' || (n % 50000), CASE WHEN n % 3 = 0 THEN 'seller-' || (n % 1000) ELSE 'seller-flash' END,
       CASE WHEN n % 10 = 0 THEN 'Paid' ELSE 'AwaitingPayment' END, 1999, 'USD', 1999, 'USD', 1, 'Checkout', false,
       timestamptz '2026-12-05 12:00' + n * interval '10 ms', now(), 1
FROM generate_series(1, 450000) AS n;
VACUUM ANALYZE bench_list;
-- The position of the 200,000th newest of the seller's orders (the 20,000th newest paid one), as a cursor would carry it.
SELECT created_at AS deep_at, order_id AS deep_id FROM bench_list WHERE seller_id = 'seller-flash'
ORDER BY created_at DESC, order_id DESC LIMIT 1 OFFSET 199999 \gset
SELECT created_at AS deep_paid_at, order_id AS deep_paid_id FROM bench_list WHERE seller_id = 'seller-flash' AND status = 'Paid'
ORDER BY created_at DESC, order_id DESC LIMIT 1 OFFSET 19999 \gset
\timing on
\echo '--- the count a page-numbered list answers: all, paid'
SELECT COUNT(*) FROM bench_list WHERE seller_id = 'seller-flash';
SELECT COUNT(*) FROM bench_list WHERE seller_id = 'seller-flash' AND status = 'Paid';
\echo '--- the first page'
SELECT order_id FROM bench_list WHERE seller_id = 'seller-flash' ORDER BY created_at DESC, order_id DESC LIMIT 21 \g /dev/null
\echo '--- 200,000 orders deep: by page number, by cursor'
SELECT order_id FROM bench_list WHERE seller_id = 'seller-flash' ORDER BY created_at DESC, order_id DESC LIMIT 21 OFFSET 200000 \g /dev/null
SELECT order_id FROM bench_list WHERE seller_id = 'seller-flash' AND (created_at, order_id) < (:'deep_at', :'deep_id')
ORDER BY created_at DESC, order_id DESC LIMIT 21 \g /dev/null
\echo '--- 20,000 paid orders deep: by page number, by cursor'
SELECT order_id FROM bench_list WHERE seller_id = 'seller-flash' AND status = 'Paid' ORDER BY created_at DESC, order_id DESC LIMIT 21 OFFSET 20000 \g /dev/null
SELECT order_id FROM bench_list WHERE seller_id = 'seller-flash' AND status = 'Paid' AND (created_at, order_id) < (:'deep_paid_at', :'deep_paid_id')
ORDER BY created_at DESC, order_id DESC LIMIT 21 \g /dev/null
\timing off
DROP TABLE bench_list;
