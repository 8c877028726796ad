-- No query of the product reads order_notifications by order (see the PostgreSQL script of this version).
DROP INDEX IF EXISTS order_notifications_by_order;
