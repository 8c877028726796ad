-- Orders: the list projection kept by order grains, the notification outbox, customer-service tickets.

CREATE TABLE IF NOT EXISTS orders (
    order_id            text        PRIMARY KEY,
    buyer_id            text        NOT NULL,
    seller_id           text        NOT NULL,
    status              text        NOT NULL,
    seller_total_minor  bigint      NOT NULL CHECK (seller_total_minor >= 0),
    seller_currency     char(3)     NOT NULL,
    buyer_total_minor   bigint      NOT NULL CHECK (buyer_total_minor >= 0),
    buyer_currency      char(3)     NOT NULL,
    line_count          integer     NOT NULL,
    source              text        NOT NULL,
    late                boolean     NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint      NOT NULL             -- the grain's change counter: older updates never overwrite newer
);
CREATE INDEX IF NOT EXISTS orders_by_seller ON orders (seller_id, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_by_buyer ON orders (buyer_id, created_at DESC, order_id DESC);

CREATE TABLE IF NOT EXISTS order_notifications (
    notification_id     text        PRIMARY KEY,
    order_id            text        NOT NULL,
    recipient           text        NOT NULL,
    channel             text        NOT NULL,
    event               text        NOT NULL,
    status              text        NOT NULL,
    created_at          timestamptz NOT NULL,
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,           -- also the lease: a claimed row is pushed ahead while it is sent
    delivered_at        timestamptz,
    failed_at           timestamptz,                    -- gave up after the last retry
    last_error          text
);
CREATE INDEX IF NOT EXISTS order_notifications_due ON order_notifications (next_attempt_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX IF NOT EXISTS order_notifications_by_order ON order_notifications (order_id);

CREATE TABLE IF NOT EXISTS service_tickets (
    ticket_id           text        PRIMARY KEY,
    order_id            text        NOT NULL,
    seller_id           text        NOT NULL,
    kind                text        NOT NULL,
    description         text        NOT NULL,
    status              text        NOT NULL DEFAULT 'Open',
    opened_at           timestamptz NOT NULL,
    due_at              timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS service_tickets_open ON service_tickets (status, due_at);
