-- The side partitions (docs/adr/0008). {schema} is the projection's schema (live, or a
-- replay target). Each table belongs to exactly one partition, named by its prefix.

-- Centre partition: the joint workspace's working copy of each client's case, folded
-- from the events (services/reporting/facts.py). No names, no identity codes, never the
-- health check's details. The side views below are cut from it.
CREATE TABLE IF NOT EXISTS {schema}.centre_cases (
    client_id    text  PRIMARY KEY,
    municipality text  NOT NULL,
    facts        jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS centre_cases_municipality ON {schema}.centre_cases (municipality);

-- TE side (employment). Rows here exist only while a consent in force covers data
-- exchange within the centre; withdrawing it deletes them.
CREATE TABLE IF NOT EXISTS {schema}.te_clients (
    client_id        text PRIMARY KEY,
    municipality     text NOT NULL,
    referral_source  text,
    referral_date    date,
    route            text,
    profile          text,
    ministry_segment integer,
    opened_on        date,
    guide_person_id  text,
    phase            text,
    closed_on        date,
    outcome          text
);

CREATE TABLE IF NOT EXISTS {schema}.te_measures (
    client_id  text NOT NULL,
    measure_id text NOT NULL,
    kind       text NOT NULL,
    provider   text NOT NULL,
    start_on   date NOT NULL,
    end_on     date,
    status     text NOT NULL,
    PRIMARY KEY (client_id, measure_id)
);

CREATE TABLE IF NOT EXISTS {schema}.te_health_summaries (
    client_id               text    NOT NULL,
    n                       integer NOT NULL,
    checked_on              date    NOT NULL,
    work_restrictions_found boolean NOT NULL,
    recommended_next_step   text    NOT NULL,
    PRIMARY KEY (client_id, n)
);

-- The final assessment (loppuarvio) is the TE-office's own: it goes to URA by law, on
-- the TE feed, so it is kept without the exchange consent.
CREATE TABLE IF NOT EXISTS {schema}.te_final_assessments (
    event_id                    uuid    PRIMARY KEY,
    client_id                   text    NOT NULL,
    municipality                text    NOT NULL,
    closed_on                   date    NOT NULL,
    outcome                     text    NOT NULL,
    outside_labour_force_reason text,
    services_continue           text    NOT NULL,
    follow_up_advisor_person_id text,
    work_ability_clarified      boolean NOT NULL,
    competence_improved         boolean NOT NULL,
    recommended_services        text[]  NOT NULL,
    assessment_text             text    NOT NULL
);
CREATE INDEX IF NOT EXISTS te_final_assessments_client ON {schema}.te_final_assessments (client_id);

-- Municipal side, one view per municipality (the municipality column). Rows exist only
-- while a consent in force names social_services:<municipality> for disclosure.
CREATE TABLE IF NOT EXISTS {schema}.municipal_clients (
    municipality        text    NOT NULL,
    client_id           text    NOT NULL,
    home_municipality   text    NOT NULL,
    route               text,
    opened_on           date,
    closed_on           date,
    at_social_services  boolean NOT NULL,
    PRIMARY KEY (municipality, client_id)
);

CREATE TABLE IF NOT EXISTS {schema}.municipal_transfers (
    municipality            text    NOT NULL,
    transfer_id             text    NOT NULL,
    client_id               text    NOT NULL,
    transferred_on          date    NOT NULL,
    plan_start              date    NOT NULL,
    plan_months             integer NOT NULL,
    days_per_week           integer NOT NULL,
    hours_per_day           numeric NOT NULL,
    place                   text    NOT NULL,
    relationship_stays_open boolean NOT NULL,
    acknowledged_on         date,
    accepted                boolean,
    returned_on             date,
    PRIMARY KEY (municipality, transfer_id)
);
CREATE INDEX IF NOT EXISTS municipal_transfers_client ON {schema}.municipal_transfers (client_id);

-- Health partition: the nurse's health check details, read by health staff only.
CREATE TABLE IF NOT EXISTS {schema}.health_checks (
    event_id     uuid PRIMARY KEY,
    client_id    text NOT NULL,
    municipality text NOT NULL,
    checked_on   date NOT NULL,
    details      text NOT NULL
);
CREATE INDEX IF NOT EXISTS health_checks_client ON {schema}.health_checks (client_id);

-- Steering group: counts only. A row names a metric, a year (0: not by year), a
-- municipality and a bucket (an outcome, a number of days, a guide, a deadline pair):
-- never a client. See Metric in services/reporting/partitions.py.
CREATE TABLE IF NOT EXISTS {schema}.steering_counts (
    metric       text    NOT NULL,
    year         integer NOT NULL,
    municipality text    NOT NULL,
    bucket       text    NOT NULL,
    n            integer NOT NULL,
    PRIMARY KEY (metric, year, municipality, bucket)
);
