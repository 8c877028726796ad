-- Inventory turnover: a snapshot of every SKU's stock once a business day (see the PostgreSQL migration of the same number).
-- Days are 'yyyy-MM-dd' text, times Unix milliseconds.
CREATE TABLE IF NOT EXISTS stock_snapshot_days (
    day         TEXT    PRIMARY KEY,
    taken_at    INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS stock_snapshots (
    day         TEXT    NOT NULL,
    sku_id      TEXT    NOT NULL,
    seller_id   TEXT    NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL,
    sold        INTEGER NOT NULL,
    PRIMARY KEY (day, sku_id)
);
CREATE INDEX IF NOT EXISTS stock_snapshots_by_seller ON stock_snapshots (seller_id, day);
CREATE INDEX IF NOT EXISTS stock_snapshots_by_sku ON stock_snapshots (sku_id, day);
