-- Seller ledger snapshots are stored as the UTF-8 bytes of their JSON (the grain encodes them off its turn, straight to UTF-8):
-- as text, a large seller's snapshot went through a UTF-16 string twice the size and was transcoded on the way in and out.
-- They are also stored apart from the transfer appends now (see SqlLedgerStore.SaveSnapshotAsync), and compressed with lz4
-- where the server has it (a flash sale's seller snapshot is megabytes; pglz spent about 80 ms on one of 11 MB).
DO $$
BEGIN
    IF (SELECT data_type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = 'ledger_snapshots' AND column_name = 'body') = 'text' THEN
        ALTER TABLE ledger_snapshots ALTER COLUMN body TYPE bytea USING convert_to(body, 'UTF8');
    END IF;
END $$;

DO $$
BEGIN
    ALTER TABLE ledger_snapshots ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: ledger_snapshots.body keeps the default compression';
END $$;
