-- One outbox row per order event instead of one per channel: the row lists its channels (comma-separated) and the webhook
-- receives them in one POST. Rows written before hold a single channel, which is a list of one.
ALTER TABLE order_notifications RENAME COLUMN channel TO channels;
