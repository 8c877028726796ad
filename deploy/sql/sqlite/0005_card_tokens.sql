-- Card tokens (R-PAY-4): what PCI DSS allows to be kept with a token. The card number itself is never stored.

CREATE TABLE IF NOT EXISTS card_tokens (
    token           TEXT    PRIMARY KEY,
    buyer_id        TEXT    NOT NULL,
    brand           TEXT    NOT NULL,
    bin             TEXT    NOT NULL,
    last4           TEXT    NOT NULL,
    bin_country     TEXT,
    expiry_month    INTEGER NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
    expiry_year     INTEGER NOT NULL,
    fingerprint     TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS card_tokens_by_buyer ON card_tokens (buyer_id);
CREATE INDEX IF NOT EXISTS card_tokens_by_fingerprint ON card_tokens (fingerprint);
