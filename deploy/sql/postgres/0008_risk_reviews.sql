-- The analysts' review queue (R-PAY-5): one row per payment held for review, kept by its review grain, with the audit trail.
-- document holds the whole review (reasons, features, the scored payment event) as JSON; decided rows are the analysts' labels.

CREATE TABLE IF NOT EXISTS risk_reviews (
    review_id       text        PRIMARY KEY,
    payment_id      text        NOT NULL,
    order_id        text        NOT NULL,
    buyer_id        text        NOT NULL,
    seller_id       text        NOT NULL,
    amount_minor    bigint      NOT NULL,
    currency        char(3)     NOT NULL,
    score           integer     NOT NULL CHECK (score BETWEEN 0 AND 100),
    model_version   text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('Open', 'Claimed', 'Approved', 'Rejected')),
    claimed_by      text,
    decided_by      text,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    document        text        NOT NULL
);
CREATE INDEX IF NOT EXISTS risk_reviews_queue ON risk_reviews (status, score DESC, created_at);

CREATE TABLE IF NOT EXISTS risk_review_audit (
    review_id       text        NOT NULL,
    seq             integer     NOT NULL,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    action          text        NOT NULL,
    note            text,
    PRIMARY KEY (review_id, seq)
);
