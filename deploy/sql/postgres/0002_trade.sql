-- Orleans.Trade's own tables: API keys and the stock alert projection.

CREATE TABLE IF NOT EXISTS api_keys (
    key_id      text        PRIMARY KEY,
    key_hash    text        NOT NULL,                 -- SHA-256 of the whole key, hex; the key itself is never stored
    role        text        NOT NULL CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp')),
    subject     text,                                 -- the seller or buyer the key acts for
    name        text,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

CREATE TABLE IF NOT EXISTS stock_alerts (
    alert_id    text        PRIMARY KEY,              -- ULID: time-ordered, so it is also the paging key
    sku_id      text        NOT NULL,
    seller_id   text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('LowStock', 'OutOfStock')),
    available   bigint      NOT NULL CHECK (available >= 0),
    threshold   integer,
    raised_at   timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS stock_alerts_by_seller ON stock_alerts (seller_id, alert_id DESC);
CREATE INDEX IF NOT EXISTS stock_alerts_by_sku ON stock_alerts (sku_id, alert_id DESC);
