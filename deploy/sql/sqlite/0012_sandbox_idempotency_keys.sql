-- The sandbox PSP's Idempotency-Keys: the first request that used a key (its fingerprint: operation, payment, body) owns it.
-- One row per key; it replaces a grain per key (an activation, a read and a write). claimed_at is unix ms. Keys claimed in
-- grain state by earlier versions (state name sandboxPspIdempotencyKey) are not carried over: the payment grains still answer
-- a repeat on their own payment from their stored answers.
CREATE TABLE IF NOT EXISTS sandbox_idempotency_keys (
    idempotency_key TEXT    PRIMARY KEY,
    fingerprint     TEXT    NOT NULL,
    claimed_at      INTEGER NOT NULL
);
