-- Intake's own read model, written in the same transaction as the events it reflects,
-- so it is never behind them. It can be rebuilt from intake's event store.

-- A keyed pseudonym of the personal identity code -> the client's one intake case.
CREATE TABLE IF NOT EXISTS {schema}.client_identities (
    identity_key text PRIMARY KEY,
    client_id    text NOT NULL UNIQUE
);

-- Installation secrets (the pseudonym key), generated on first use.
CREATE TABLE IF NOT EXISTS {schema}.secrets (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);

-- One row per intake case: the queue is the cases that are not yet routed.
CREATE TABLE IF NOT EXISTS {schema}.case_overview (
    client_id           text PRIMARY KEY,
    version             integer     NOT NULL,
    municipality        text        NOT NULL,
    source              text        NOT NULL,
    referral_date       date        NOT NULL,
    received_by         text        NOT NULL,
    received_at         timestamptz NOT NULL,
    owner               text,
    stage               text        NOT NULL,
    stage_since         timestamptz NOT NULL,
    rule_set            text        NOT NULL,
    assessment_deadline date,
    route               text
);
CREATE INDEX IF NOT EXISTS case_overview_queue ON {schema}.case_overview (stage, stage_since)
    WHERE stage <> 'routed';

-- Info sessions and the places taken in them (locked FOR UPDATE when inviting).
CREATE TABLE IF NOT EXISTS {schema}.info_sessions (
    session_id text PRIMARY KEY,
    starts_at  timestamptz NOT NULL,
    place      text        NOT NULL,
    capacity   integer     NOT NULL CHECK (capacity > 0),
    invited    integer     NOT NULL DEFAULT 0 CHECK (invited >= 0)
);
