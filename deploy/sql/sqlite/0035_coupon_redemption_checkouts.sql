-- A coupon redemption names the checkout its order was placed for (see the PostgreSQL migration of the same number).
ALTER TABLE coupon_redemptions ADD COLUMN checkout_key TEXT;
