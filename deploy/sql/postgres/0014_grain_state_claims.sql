-- Claims (IClaimingState): a state's first write may claim a name that no other stored state holds, checked by this unique
-- index in the insert itself. A checkout's key is claimed by the checkout's own state (a refusal, a multi-seller plan) or by
-- the lone order it placed, whichever is stored first: a retry that reaches a new checkout activation places an order whose
-- insert meets the claim and is not applied, so one key never makes two orders, without a checkout row per order.
-- Checkout states stored before this version claim their own grain id, the name a new checkout claims.
ALTER TABLE grain_state ADD COLUMN IF NOT EXISTS claim text;
UPDATE grain_state SET claim = grain_id WHERE state_name = 'checkout' AND claim IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS grain_state_claim ON grain_state (service_id, claim) WHERE claim IS NOT NULL;
