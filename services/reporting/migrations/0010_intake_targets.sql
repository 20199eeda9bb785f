-- The steering group's yearly intake targets, one row per setting (IntakeTargetSet). The
-- target in force on a day is the row with the latest set_on not after it; of two set on
-- the same day, the later in the year's stream (docs/adr/0032).
CREATE TABLE IF NOT EXISTS {schema}.intake_targets (
    year           int NOT NULL,
    stream_version int NOT NULL,
    set_on         date NOT NULL,
    target         int NOT NULL CHECK (target > 0),
    -- {"Mikkeli": 7, ...} adding up to target, or null: apportioned by population
    municipalities jsonb,
    event_id       uuid NOT NULL UNIQUE,
    PRIMARY KEY (year, stream_version)
);
