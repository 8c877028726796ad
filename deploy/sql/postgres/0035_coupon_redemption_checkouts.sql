-- A coupon redemption names the checkout its order was placed for: a retried checkout's new order is not refused for the tentative
-- redemptions its earlier attempts left (a failed write, a lost answer), as at most one order of a checkout is ever placed. A
-- nullable column with no default changes only the catalogue; redemptions taken before it have none, and count as before.
ALTER TABLE coupon_redemptions ADD COLUMN IF NOT EXISTS checkout_key text;
