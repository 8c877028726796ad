-- Ad ROI per channel and GMV against margin per category (R-DAT-4).
--
-- An order's row keeps the ad channel and campaign its checkout named (null when none did: nullable columns with no default change
-- only the catalogue, and a flash sale's insert that names none writes nothing more). No index: ad ROI reads a window's orders as
-- the service score does (a seller's through its index, all sellers' through the table) and groups them by these columns.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS channel text;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS campaign text;

-- What was spent on ads, a row per (seller, channel, campaign, day, currency): seller_id '' is the platform's own spend and campaign
-- '' spend on the channel as a whole, so the key has no nulls and a re-sent import replaces its row instead of adding one.
CREATE TABLE IF NOT EXISTS ad_spend (
    seller_id    text        NOT NULL,
    channel      text        NOT NULL,
    campaign     text        NOT NULL,
    day          date        NOT NULL,
    currency     text        NOT NULL,
    amount_minor bigint      NOT NULL,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text        NOT NULL,
    PRIMARY KEY (seller_id, channel, campaign, day, currency)
);
-- All sellers' spend over a window (the seller's own is read through the key's first column).
CREATE INDEX IF NOT EXISTS ad_spend_by_day ON ad_spend (day);

-- The lines of paid orders, for the category margin: written once per order by the write that first stores it as paid (the order
-- grain's), never by the placing write, so a flash sale's unpaid inserts pay nothing for it. created_at and seller_id are the
-- order's (the window and the seller filter); the order's row says whether it still counts (its status).
CREATE TABLE IF NOT EXISTS order_line_facts (
    order_id          text        NOT NULL,
    line_no           integer     NOT NULL,
    seller_id         text        NOT NULL,
    created_at        timestamptz NOT NULL,
    sku_id            text        NOT NULL,
    category          text,
    units             bigint      NOT NULL,
    currency          text        NOT NULL,
    paid_minor        bigint      NOT NULL,
    commission_minor  bigint      NOT NULL,
    unit_cost_minor   bigint,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX IF NOT EXISTS order_line_facts_by_seller ON order_line_facts (seller_id, created_at);
-- Written in time order: a block range index serves all sellers' windows at a fraction of a b-tree's size and upkeep.
CREATE INDEX IF NOT EXISTS order_line_facts_by_time ON order_line_facts USING brin (created_at);
