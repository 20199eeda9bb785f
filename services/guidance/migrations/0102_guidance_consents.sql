-- The client's consents as intake recorded them (ConsentGiven, ConsentWithdrawn), so that
-- the disclosure policy (docs/adr/0018) can decide guidance's transfers and reads. Written
-- by the consumer of intake's events, in the same transaction as its consumed position.
-- No personal data: ids, scopes, organisation names and dates.
CREATE TABLE IF NOT EXISTS {schema}.client_consents (
    client_id     text   NOT NULL,
    consent_id    text   NOT NULL,
    scopes        text[] NOT NULL,
    organisations text[] NOT NULL DEFAULT '{}',
    given_on      date   NOT NULL,
    withdrawn_on  date,
    PRIMARY KEY (client_id, consent_id)
);
