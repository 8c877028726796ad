-- A seller ledger keeps settled orders out of memory and takes one back from its stored transfers when something happens to
-- it again (a late refund): it reads the transfers whose ids start with '{order}:' as a range of the primary key,
-- transfer_id >= '{order}:' AND transfer_id < '{order};'. That range is the right one only in byte order: under a linguistic
-- collation (en_US and the like) punctuation weighs less than letters, so ids of other orders fall inside it and some of this
-- order's outside. The ids are machine-made ASCII; comparing them bytewise is also cheaper on every insert.
-- Rebuilds the primary key index under a lock on the table (a short pause of ledger writes on a large table).
ALTER TABLE ledger_transfers ALTER COLUMN transfer_id TYPE text COLLATE "C";
