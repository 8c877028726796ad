-- A reservation's parts are read and written whole by its SKU grain and never queried inside, so they are kept as json
-- (the text, checked to be JSON) instead of jsonb, which PostgreSQL parses into its binary form on every insert: one
-- reservation per placed order goes into a hot SKU's write, and 200,000 of them took 540-598 ms as json against 712-768 ms as
-- jsonb (tests/Orleans.Trade.Benchmarks/Sql/reservation-parts.sql). Rewrites the table: it holds open reservations only.
ALTER TABLE sku_reservations ALTER COLUMN parts TYPE json USING parts::json;
