-- Sellers' coupon redemptions, a row per order, and a version per seller checked by every write (see the PostgreSQL migration of
-- the same number). Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS coupon_ledgers (
    seller_id  TEXT    PRIMARY KEY,
    version    INTEGER NOT NULL CHECK (version > 0)
);

CREATE TABLE IF NOT EXISTS coupon_redemptions (
    seller_id       TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    buyer_id        TEXT    NOT NULL,
    redeemed_at     INTEGER NOT NULL,
    hold_until      INTEGER,
    discount_minor  INTEGER NOT NULL CHECK (discount_minor >= 0),
    PRIMARY KEY (seller_id, order_id)
);
