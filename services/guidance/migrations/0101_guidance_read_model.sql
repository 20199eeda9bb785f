-- Guidance's read model, written in the same transaction as the events it reflects.

-- What guidance knows of each client from intake's ClientReferred (for the final
-- assessment to URA and for the guide's screens). Personal data.
CREATE TABLE IF NOT EXISTS {schema}.client_directory (
    client_id              text PRIMARY KEY,
    personal_identity_code text NOT NULL,
    first_name             text NOT NULL,
    last_name              text NOT NULL,
    municipality           text NOT NULL,
    referral_date          date NOT NULL
);

-- Named guides, their areas and their caseload (locked FOR UPDATE when assigning).
CREATE TABLE IF NOT EXISTS {schema}.guides (
    person_id    text PRIMARY KEY,
    name         text    NOT NULL,
    role         text    NOT NULL,
    areas        text[]  NOT NULL DEFAULT '{}',
    active_cases integer NOT NULL DEFAULT 0 CHECK (active_cases >= 0)
);

-- One row per guidance case, for the waiting list and the worklist.
CREATE TABLE IF NOT EXISTS {schema}.case_overview (
    client_id      text PRIMARY KEY,
    version        integer NOT NULL,
    municipality   text    NOT NULL,
    status         text    NOT NULL,
    guide          text,
    phase          text    NOT NULL,
    opened_on      date    NOT NULL,
    waiting_since  date    NOT NULL,
    rule_set       text    NOT NULL
);
CREATE INDEX IF NOT EXISTS case_overview_guide ON {schema}.case_overview (guide) WHERE status <> 'closed';
