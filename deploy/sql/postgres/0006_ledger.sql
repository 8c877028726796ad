-- Seller ledgers (R-ROLE-1, R-SET-1): append-only double-entry transfers; balances are rebuilt from them.

CREATE TABLE IF NOT EXISTS ledger_transfers (
    entry_no        bigint      GENERATED ALWAYS AS IDENTITY,   -- replay order
    ledger_id       text        NOT NULL,
    transfer_id     text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('Posted', 'Pending', 'PostPending', 'VoidPending')),
    debit_account   text        NOT NULL,
    credit_account  text        NOT NULL,
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    currency        char(3)     NOT NULL,
    pending_id      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, transfer_id)
);
CREATE INDEX IF NOT EXISTS ledger_transfers_replay ON ledger_transfers (ledger_id, entry_no);
