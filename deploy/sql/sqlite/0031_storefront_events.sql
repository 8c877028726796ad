-- The conversion funnel (R-DAT-2): storefront events (see the PostgreSQL migration of the same number). Times are Unix
-- milliseconds (UTC). A plain index on the time stands in for PostgreSQL's block range index.
CREATE TABLE IF NOT EXISTS storefront_events (
    event_id    TEXT    PRIMARY KEY,
    kind        INTEGER NOT NULL CHECK (kind IN (1, 2, 4)),
    visitor     TEXT    NOT NULL,
    sku_id      TEXT    NOT NULL,
    seller_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS storefront_events_by_seller ON storefront_events (seller_id, sku_id, at);
CREATE INDEX IF NOT EXISTS storefront_events_by_time ON storefront_events (at);
-- The storefront's backend posts them with API keys of its own (role 'storefront'). SQLite cannot change a CHECK constraint,
-- so the table is rebuilt with the wider one and its rows copied.
CREATE TABLE api_keys_0031 (
    key_id      TEXT    PRIMARY KEY,
    key_hash    TEXT    NOT NULL,                     -- SHA-256 of the whole key, hex; the key itself is never stored
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp', 'carrier', 'storefront')),
    subject     TEXT,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
INSERT INTO api_keys_0031 (key_id, key_hash, role, subject, name, created_at, revoked_at)
    SELECT key_id, key_hash, role, subject, name, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_0031 RENAME TO api_keys;
