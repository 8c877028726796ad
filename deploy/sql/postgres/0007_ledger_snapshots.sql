-- Seller ledger snapshots: the books after transfer through_entry_no, so activation replays only later transfers.
-- One row per ledger, replaced in the transaction that appends the transfers it includes; ledger_transfers stays complete.

CREATE TABLE IF NOT EXISTS ledger_snapshots (
    ledger_id         text        PRIMARY KEY,
    through_entry_no  bigint      NOT NULL,
    taken_at          timestamptz NOT NULL,
    body              text        NOT NULL
);
