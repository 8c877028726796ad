-- Sellers' coupon redemptions (R-SET-3), a row per order that holds one, written by the seller's coupons grain in group commits
-- that carry only what changed: the first release kept them all in the grain's state, rewritten whole on every redemption, so a
-- coupon in a flash sale cost a write that grew with every order before it. The grain loads a seller's rows when it activates.
-- coupon_ledgers keeps a version per seller that every write moves on by one and checks (as ledger_heads do for the money
-- ledgers): two activations of the same seller's coupons during a partition cannot both count against the limits unseen.
CREATE TABLE IF NOT EXISTS coupon_ledgers (
    seller_id  text   PRIMARY KEY,
    version    bigint NOT NULL CHECK (version > 0)
);

CREATE TABLE IF NOT EXISTS coupon_redemptions (
    seller_id       text        NOT NULL,
    order_id        text        NOT NULL,
    code            text        NOT NULL,
    buyer_id        text        NOT NULL,
    redeemed_at     timestamptz NOT NULL,
    hold_until      timestamptz,            -- tentative until then; null once the order is known placed
    discount_minor  bigint      NOT NULL CHECK (discount_minor >= 0),
    PRIMARY KEY (seller_id, order_id)
);
