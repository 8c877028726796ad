-- Claims (IClaimingState): a state's first write may claim a name that no other stored state holds, checked by this unique
-- index in the insert itself (see the PostgreSQL script of the same version). Checkout states stored before this version claim
-- their own grain id, the name a new checkout claims.
ALTER TABLE grain_state ADD COLUMN claim TEXT;
UPDATE grain_state SET claim = grain_id WHERE state_name = 'checkout' AND claim IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS grain_state_claim ON grain_state (service_id, claim) WHERE claim IS NOT NULL;
