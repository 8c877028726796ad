-- trade_abort(reason) raises an error (SQLSTATE OT409) from inside a statement, so a condition found while it runs can roll back
-- the whole transaction it is part of. A hot SKU's write sends all of its statements in one round trip as one implicit
-- transaction (SqlSkuLedgerStore): its ledger statement calls this when a SKU whose orders the same batch inserts lost its
-- version check, and the store then retries the write the slow way, which leaves that SKU's orders out.
CREATE OR REPLACE FUNCTION trade_abort(reason text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'OT409', MESSAGE = reason;
END
$$;
