-- A/B tests: a row per buyer an experiment's variant was shown to (see the PostgreSQL migration of the same number). Times are
-- Unix milliseconds.
CREATE TABLE IF NOT EXISTS experiment_exposures (
    experiment_id  TEXT    NOT NULL,
    buyer_id       TEXT    NOT NULL,
    variant        TEXT    NOT NULL,
    first_at       INTEGER NOT NULL,
    PRIMARY KEY (experiment_id, buyer_id)
);
