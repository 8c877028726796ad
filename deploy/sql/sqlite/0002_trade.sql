-- Orleans.Trade's own tables: API keys and the stock alert projection. Times are Unix milliseconds (UTC).

CREATE TABLE IF NOT EXISTS api_keys (
    key_id      TEXT    PRIMARY KEY,
    key_hash    TEXT    NOT NULL,                     -- SHA-256 of the whole key, hex; the key itself is never stored
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp')),
    subject     TEXT,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE IF NOT EXISTS stock_alerts (
    alert_id    TEXT    PRIMARY KEY,
    sku_id      TEXT    NOT NULL,
    seller_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('LowStock', 'OutOfStock')),
    available   INTEGER NOT NULL CHECK (available >= 0),
    threshold   INTEGER,
    raised_at   INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS stock_alerts_by_seller ON stock_alerts (seller_id, alert_id DESC);
CREATE INDEX IF NOT EXISTS stock_alerts_by_sku ON stock_alerts (sku_id, alert_id DESC);
