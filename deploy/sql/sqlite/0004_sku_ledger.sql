-- SKU ledgers, written by SKU grains with group commit: a small aggregate row per SKU and a row per open reservation,
-- so that a write's size does not grow with the number of open orders on a hot SKU. Times are Unix milliseconds.

CREATE TABLE IF NOT EXISTS sku_ledger (
    sku_id          TEXT    PRIMARY KEY,
    version         INTEGER NOT NULL CHECK (version > 0),
    state           TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS sku_reservations (
    sku_id          TEXT    NOT NULL,
    reservation_id  TEXT    NOT NULL,
    parts           TEXT    NOT NULL,
    reserved_at     INTEGER NOT NULL,
    PRIMARY KEY (sku_id, reservation_id)
);
