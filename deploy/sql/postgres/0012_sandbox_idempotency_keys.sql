-- The sandbox PSP's Idempotency-Keys: the first request that used a key (its fingerprint: operation, payment, body) owns it.
-- One row per key, claimed by many requests per statement; it replaces a grain per key (an activation, a read and a write).
-- Keys claimed in grain state by earlier versions (state name sandboxPspIdempotencyKey) are not carried over: the payment
-- grains still answer a repeat on their own payment from their stored answers.
CREATE TABLE IF NOT EXISTS sandbox_idempotency_keys (
    idempotency_key text        PRIMARY KEY,
    fingerprint     text        NOT NULL,
    claimed_at      timestamptz NOT NULL
);
