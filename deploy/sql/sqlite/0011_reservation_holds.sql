-- A checkout's reservation is tentative until its order is placed: hold_until (unix ms) is when the SKU asks the order whether
-- it was placed (and gives the units back if not); NULL for a firm reservation, and for every reservation made before this column.
ALTER TABLE sku_reservations ADD COLUMN hold_until INTEGER;
