-- Ad ROI per channel and GMV against margin per category (see the PostgreSQL migration of the same number). Days are 'yyyy-MM-dd'
-- text, times Unix milliseconds.
ALTER TABLE orders ADD COLUMN channel TEXT;
ALTER TABLE orders ADD COLUMN campaign TEXT;

CREATE TABLE IF NOT EXISTS ad_spend (
    seller_id    TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    campaign     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    amount_minor INTEGER NOT NULL,
    recorded_at  INTEGER NOT NULL,
    recorded_by  TEXT    NOT NULL,
    PRIMARY KEY (seller_id, channel, campaign, day, currency)
);
CREATE INDEX IF NOT EXISTS ad_spend_by_day ON ad_spend (day);

CREATE TABLE IF NOT EXISTS order_line_facts (
    order_id          TEXT    NOT NULL,
    line_no           INTEGER NOT NULL,
    seller_id         TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    sku_id            TEXT    NOT NULL,
    category          TEXT,
    units             INTEGER NOT NULL,
    currency          TEXT    NOT NULL,
    paid_minor        INTEGER NOT NULL,
    commission_minor  INTEGER NOT NULL,
    unit_cost_minor   INTEGER,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX IF NOT EXISTS order_line_facts_by_seller ON order_line_facts (seller_id, created_at);
CREATE INDEX IF NOT EXISTS order_line_facts_by_time ON order_line_facts (created_at);
