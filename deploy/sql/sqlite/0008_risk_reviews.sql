-- The analysts' review queue (R-PAY-5): one row per payment held for review, kept by its review grain, with the audit trail.
-- Times are Unix milliseconds (UTC). document holds the whole review as JSON; decided rows are the analysts' labels.

CREATE TABLE IF NOT EXISTS risk_reviews (
    review_id       TEXT    PRIMARY KEY,
    payment_id      TEXT    NOT NULL,
    order_id        TEXT    NOT NULL,
    buyer_id        TEXT    NOT NULL,
    seller_id       TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    model_version   TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('Open', 'Claimed', 'Approved', 'Rejected')),
    claimed_by      TEXT,
    decided_by      TEXT,
    decided_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    document        TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS risk_reviews_queue ON risk_reviews (status, score DESC, created_at);

CREATE TABLE IF NOT EXISTS risk_review_audit (
    review_id       TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    actor           TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    note            TEXT,
    PRIMARY KEY (review_id, seq)
);
