-- Card tokens (R-PAY-4): what PCI DSS allows to be kept with a token. The card number itself is never stored.

CREATE TABLE IF NOT EXISTS card_tokens (
    token           text        PRIMARY KEY,
    buyer_id        text        NOT NULL,
    brand           text        NOT NULL,
    bin             char(6)     NOT NULL,
    last4           char(4)     NOT NULL,
    bin_country     char(2),
    expiry_month    smallint    NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year     smallint    NOT NULL,
    fingerprint     text        NOT NULL,      -- HMAC-SHA256 of the number under Payments:CardFingerprintKey
    created_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS card_tokens_by_buyer ON card_tokens (buyer_id);
CREATE INDEX IF NOT EXISTS card_tokens_by_fingerprint ON card_tokens (fingerprint);
