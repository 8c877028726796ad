-- No query of the product reads order_notifications by order: the dispatcher claims due rows through order_notifications_due
-- and updates them by notification_id. The by-order index only added an entry to every notification insert, one per placed
-- order inside a hot SKU's write and three per paid order. A support query by order still works (a scan of the outbox).
DROP INDEX IF EXISTS order_notifications_by_order;
