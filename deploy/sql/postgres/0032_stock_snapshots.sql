-- Inventory turnover (R-DAT-3): once a business day, the stock of every SKU as its ledger stands (on hand, reserved, and the
-- units sold since the SKU was created, summed over its warehouses), taken in one statement by the first silo to find the day
-- without its row in stock_snapshot_days (the claim and the rows commit together, so a day is taken once and whole). Turnover
-- over a window is read from its first and last snapshot and the mean on hand between. Rows older than
-- Analytics:StockSnapshotRetentionDays are deleted when a day is taken.
CREATE TABLE IF NOT EXISTS stock_snapshot_days (
    day         date        PRIMARY KEY,
    taken_at    timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS stock_snapshots (
    day         date   NOT NULL,
    sku_id      text   NOT NULL,
    seller_id   text   NOT NULL,
    on_hand     bigint NOT NULL,
    reserved    bigint NOT NULL,
    sold        bigint NOT NULL,   -- cumulative: a window's sales are its last snapshot's less its first's
    PRIMARY KEY (day, sku_id)
);
-- A seller's SKUs over a window (the report's usual read), and one SKU's.
CREATE INDEX IF NOT EXISTS stock_snapshots_by_seller ON stock_snapshots (seller_id, day);
CREATE INDEX IF NOT EXISTS stock_snapshots_by_sku ON stock_snapshots (sku_id, day);
