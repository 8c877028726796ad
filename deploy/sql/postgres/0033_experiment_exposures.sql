-- A/B tests (R-DAT-5): a row per buyer an experiment's variant was shown to, with its variant (assigned by a hash of the
-- experiment and the buyer, so the same buyer always sees the same one) and when it was first shown. A buyer converts when an
-- order of theirs (of the experiment's seller, if it has one) is created after that and before the experiment ends: read through
-- orders_by_buyer.
CREATE TABLE IF NOT EXISTS experiment_exposures (
    experiment_id  text        NOT NULL,
    buyer_id       text        NOT NULL,
    variant        text        NOT NULL,
    first_at       timestamptz NOT NULL,
    PRIMARY KEY (experiment_id, buyer_id)
);
