-- Orders: the list projection kept by order grains, the notification outbox, customer-service tickets.
-- Times are Unix milliseconds (UTC).

CREATE TABLE IF NOT EXISTS orders (
    order_id            TEXT    PRIMARY KEY,
    buyer_id            TEXT    NOT NULL,
    seller_id           TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    seller_total_minor  INTEGER NOT NULL CHECK (seller_total_minor >= 0),
    seller_currency     TEXT    NOT NULL,
    buyer_total_minor   INTEGER NOT NULL CHECK (buyer_total_minor >= 0),
    buyer_currency      TEXT    NOT NULL,
    line_count          INTEGER NOT NULL,
    source              TEXT    NOT NULL,
    late                INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_seller ON orders (seller_id, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_by_buyer ON orders (buyer_id, created_at DESC, order_id DESC);

CREATE TABLE IF NOT EXISTS order_notifications (
    notification_id     TEXT    PRIMARY KEY,
    order_id            TEXT    NOT NULL,
    recipient           TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    event               TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    delivered_at        INTEGER,
    failed_at           INTEGER,
    last_error          TEXT
);
CREATE INDEX IF NOT EXISTS order_notifications_due ON order_notifications (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS order_notifications_by_order ON order_notifications (order_id);

CREATE TABLE IF NOT EXISTS service_tickets (
    ticket_id           TEXT    PRIMARY KEY,
    order_id            TEXT    NOT NULL,
    seller_id           TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'Open',
    opened_at           INTEGER NOT NULL,
    due_at              INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS service_tickets_open ON service_tickets (status, due_at);
