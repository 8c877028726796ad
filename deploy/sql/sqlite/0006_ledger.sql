-- Seller ledgers (R-ROLE-1, R-SET-1): append-only double-entry transfers; balances are rebuilt from them.

CREATE TABLE IF NOT EXISTS ledger_transfers (
    entry_no        INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger_id       TEXT    NOT NULL,
    transfer_id     TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('Posted', 'Pending', 'PostPending', 'VoidPending')),
    debit_account   TEXT    NOT NULL,
    credit_account  TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency        TEXT    NOT NULL,
    pending_id      TEXT,
    created_at      INTEGER NOT NULL DEFAULT (CAST(strftime('%s','now') AS INTEGER) * 1000),
    UNIQUE (ledger_id, transfer_id)
);
