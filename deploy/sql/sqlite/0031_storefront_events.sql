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
