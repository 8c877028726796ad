-- Grain state of the "trade" storage, written by BatchedGrainStorage: many grains' writes share one transaction.
-- version is the ETag; grain_id is Orleans' GrainId text (type/key). wake_at (Unix milliseconds, UTC) is the deadline index that
-- DeadlineSweeperGrain scans, written with the state it follows from.

CREATE TABLE IF NOT EXISTS grain_state (
    service_id  TEXT    NOT NULL,
    state_name  TEXT    NOT NULL,
    grain_id    TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    payload     BLOB    NOT NULL,
    wake_at     INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (service_id, state_name, grain_id)
);
CREATE INDEX IF NOT EXISTS grain_state_wake ON grain_state (service_id, wake_at) WHERE wake_at IS NOT NULL;
