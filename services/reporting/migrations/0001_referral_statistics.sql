-- Referred clients by year, municipality and referral source. Aggregates only: no
-- personal data. {schema} is the projection's schema (live, or a replay target).
CREATE TABLE IF NOT EXISTS {schema}.referrals_by_source (
    year         integer NOT NULL,
    municipality text    NOT NULL,
    source       text    NOT NULL,
    referred     integer NOT NULL,
    PRIMARY KEY (year, municipality, source)
);
