-- Grain state of the "trade" storage, written by BatchedGrainStorage: many grains' writes share one statement and one commit.
-- version is the ETag (a write applies only against the version it read); grain_id is Orleans' GrainId text (type/key), so two
-- grain types never share a row. wake_at is the deadline index: the time a grain asks to be woken (DeadlineSweeperGrain scans it),
-- written in the same statement as the state it follows from.

CREATE TABLE IF NOT EXISTS grain_state (
    service_id  text        NOT NULL,
    state_name  text        NOT NULL,
    grain_id    text        NOT NULL,
    version     integer     NOT NULL CHECK (version > 0),
    payload     bytea       NOT NULL,
    wake_at     timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_id)
);
CREATE INDEX IF NOT EXISTS grain_state_wake ON grain_state (service_id, wake_at) WHERE wake_at IS NOT NULL;
