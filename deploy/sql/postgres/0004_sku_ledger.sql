-- SKU ledgers, written by SKU grains with group commit: a small aggregate row per SKU and a row per open reservation,
-- so that a write's size does not grow with the number of open orders on a hot SKU.

CREATE TABLE IF NOT EXISTS sku_ledger (
    sku_id          text        PRIMARY KEY,
    version         bigint      NOT NULL CHECK (version > 0),   -- optimistic concurrency between activations
    state           jsonb       NOT NULL,                       -- catalog, stock per warehouse, outbox of alerts
    updated_at      timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sku_reservations (
    sku_id          text        NOT NULL,
    reservation_id  text        NOT NULL,                       -- "{order id}:{line}", the idempotency key of a reservation
    parts           jsonb       NOT NULL,                       -- [{warehouseId, quantity, promisedShipDate}]
    reserved_at     timestamptz NOT NULL,
    PRIMARY KEY (sku_id, reservation_id)
);
