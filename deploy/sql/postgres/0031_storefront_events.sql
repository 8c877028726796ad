-- The conversion funnel (R-DAT-2): what the storefront's buyers viewed, added to their carts and started to check out, posted
-- by the storefront in batches and only ever inserted (then deleted past Analytics:FunnelRetentionDays). The platform's busiest
-- table, so kept lean: the step as its bit (1 view, 2 cart, 4 checkout), the visitor (a buyer id, or '~' and a session id), the
-- SKU and its seller, the time; no payload, no time of receipt. Ids are machine-made: compared bytewise (collation "C").
CREATE TABLE IF NOT EXISTS storefront_events (
    event_id    text COLLATE "C" PRIMARY KEY,   -- the storefront's id: a batch sent again inserts nothing twice
    kind        smallint    NOT NULL CHECK (kind IN (1, 2, 4)),
    visitor     text        NOT NULL,
    sku_id      text        NOT NULL,
    seller_id   text        NOT NULL,
    at          timestamptz NOT NULL
);
-- A seller's funnel, and one SKU's, read a range of this index; a window of all sellers, and the retention's deletes, read the
-- block range index on the time (rows arrive about in time order: a few pages of index for the whole table, next to nothing
-- per insert).
CREATE INDEX IF NOT EXISTS storefront_events_by_seller ON storefront_events (seller_id, sku_id, at);
CREATE INDEX IF NOT EXISTS storefront_events_by_time ON storefront_events USING brin (at);
-- The storefront's backend posts them with API keys of its own (role 'storefront').
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp', 'carrier', 'storefront'));
