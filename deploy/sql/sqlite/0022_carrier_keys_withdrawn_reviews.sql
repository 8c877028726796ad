-- A carrier's integration gets API keys of its own (role 'carrier': it records deliveries, R-LOG-5), and a risk review whose
-- order was cancelled before an analyst decided it is withdrawn (status 'Withdrawn'). SQLite cannot change a CHECK
-- constraint, so both tables are rebuilt with the wider one and their rows copied.
CREATE TABLE api_keys_0022 (
    key_id      TEXT    PRIMARY KEY,
    key_hash    TEXT    NOT NULL,                     -- SHA-256 of the whole key, hex; the key itself is never stored
    role        TEXT    NOT NULL CHECK (role IN ('admin', 'seller', 'buyer', 'analyst', 'erp', 'carrier')),
    subject     TEXT,
    name        TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
INSERT INTO api_keys_0022 (key_id, key_hash, role, subject, name, created_at, revoked_at)
    SELECT key_id, key_hash, role, subject, name, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_0022 RENAME TO api_keys;

CREATE TABLE risk_reviews_0022 (
    review_id       TEXT    PRIMARY KEY,
    payment_id      TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    buyer_id        TEXT    NOT NULL,
    seller_id       TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    model_version   TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('Open', 'Claimed', 'Approved', 'Rejected', 'Withdrawn')),
    claimed_by      TEXT,
    decided_by      TEXT,
    decided_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    document        TEXT    NOT NULL
);
INSERT INTO risk_reviews_0022 SELECT review_id, payment_id, order_id, buyer_id, seller_id, amount_minor, currency, score, model_version,
    status, claimed_by, decided_by, decided_at, created_at, updated_at, document FROM risk_reviews;
DROP TABLE risk_reviews;
ALTER TABLE risk_reviews_0022 RENAME TO risk_reviews;
CREATE INDEX IF NOT EXISTS risk_reviews_queue ON risk_reviews (status, score DESC, created_at);
