"""The side partitions' statements (sivuosiot), in plain sight; ``{schema}`` is the
projection's schema. :mod:`services.reporting.side_partitions` runs them."""

from __future__ import annotations

from runtime.sql import SqlStatements

# --- centre partition and the cuts from it ----------------------------------------------

# Intake's and guidance's events of one client may be applied at once (each holds only
# its own stream's head): the client's lock makes them take turns on the case. A batch
# takes its clients' locks in one order (by key), so two batches never wait on each other
# in a circle.
_LOCK_CASES = """
SELECT pg_advisory_xact_lock(hashtext('reitti.reporting.case'), key)
FROM (SELECT DISTINCT hashtext(client_id) AS key FROM unnest($1::text[]) AS u(client_id) ORDER BY key) AS keys
"""
_LOAD_CASES = (
    "SELECT client_id, facts::text AS facts FROM {schema}.centre_cases WHERE client_id = ANY($1::text[])"
)
_SAVE_CASES = """
INSERT INTO {schema}.centre_cases (client_id, municipality, facts)
SELECT client_id, municipality, facts::jsonb FROM unnest($1::text[], $2::text[], $3::text[])
    AS u(client_id, municipality, facts)
ON CONFLICT (client_id) DO UPDATE SET municipality = excluded.municipality, facts = excluded.facts
"""
_CHANGE_COUNTS = """
INSERT INTO {schema}.steering_counts (metric, year, municipality, bucket, n)
SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[])
ON CONFLICT (metric, year, municipality, bucket) DO UPDATE SET n = {schema}.steering_counts.n + excluded.n
"""
_DROP_ZERO_COUNTS = """
DELETE FROM {schema}.steering_counts
WHERE n = 0 AND (metric, year, municipality, bucket) IN (
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]))
"""
_CLEAR_TE = """
WITH measures AS (DELETE FROM {schema}.te_measures WHERE client_id = ANY($1::text[])),
     summaries AS (DELETE FROM {schema}.te_health_summaries WHERE client_id = ANY($1::text[]))
DELETE FROM {schema}.te_clients WHERE client_id = ANY($1::text[])
"""
_INSERT_TE_CLIENTS = """
INSERT INTO {schema}.te_clients (client_id, municipality, referral_source, referral_date, route, profile,
                            ministry_segment, opened_on, guide_person_id, phase, closed_on, outcome)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::int[],
                     $8::date[], $9::text[], $10::text[], $11::date[], $12::text[])
"""
_INSERT_TE_MEASURES = """
INSERT INTO {schema}.te_measures (client_id, measure_id, kind, provider, start_on, end_on, status)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::text[])
"""
_INSERT_TE_HEALTH_SUMMARIES = """
INSERT INTO {schema}.te_health_summaries (client_id, n, checked_on, work_restrictions_found,
                                     recommended_next_step)
SELECT * FROM unnest($1::text[], $2::int[], $3::date[], $4::bool[], $5::text[])
"""
_CLEAR_MUNICIPAL = """
WITH transfers AS (DELETE FROM {schema}.municipal_transfers WHERE client_id = ANY($1::text[]))
DELETE FROM {schema}.municipal_clients WHERE client_id = ANY($1::text[])
"""
_INSERT_MUNICIPAL_CLIENTS = """
INSERT INTO {schema}.municipal_clients (municipality, client_id, home_municipality, route, opened_on,
                                   closed_on, at_social_services, name)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[], $7::bool[],
                     $8::text[])
"""
_INSERT_MUNICIPAL_TRANSFERS = """
INSERT INTO {schema}.municipal_transfers (municipality, transfer_id, client_id, transferred_on, plan_start,
    plan_months, days_per_week, hours_per_day, place, relationship_stays_open, acknowledged_on,
    accepted, returned_on)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::date[], $6::int[], $7::int[],
                     $8::numeric[], $9::text[], $10::bool[], $11::date[], $12::bool[], $13::date[])
"""
_INSERT_HEALTH_CHECKS = """
INSERT INTO {schema}.health_checks (event_id, client_id, municipality, checked_on, details)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[])
"""
# An array column cannot ride in unnest (arrays of arrays are flattened): the recommended
# services travel as a JSON array each.
_INSERT_FINAL_ASSESSMENTS = """
INSERT INTO {schema}.te_final_assessments (event_id, client_id, municipality, closed_on, outcome,
    outside_labour_force_reason, services_continue, follow_up_advisor_person_id,
    work_ability_clarified, competence_improved, recommended_services, assessment_text)
SELECT event_id, client_id, municipality, closed_on, outcome, outside_labour_force_reason,
       services_continue, follow_up_advisor_person_id, work_ability_clarified, competence_improved,
       ARRAY(SELECT jsonb_array_elements_text(recommended_services::jsonb)), assessment_text
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[],
            $8::text[], $9::bool[], $10::bool[], $11::text[], $12::text[])
    AS u(event_id, client_id, municipality, closed_on, outcome, outside_labour_force_reason,
         services_continue, follow_up_advisor_person_id, work_ability_clarified, competence_improved,
         recommended_services, assessment_text)
"""
_ERASE = """
WITH health_checks AS (UPDATE {schema}.health_checks SET details = $2 WHERE client_id = ANY($1::text[]))
UPDATE {schema}.te_final_assessments SET assessment_text = $2 WHERE client_id = ANY($1::text[])
"""


class SidePartitionSql(SqlStatements):
    """The side partitions' statements (sivuosiot), formatted once per schema."""

    lock = _LOCK_CASES
    load = _LOAD_CASES
    save = _SAVE_CASES
    change_counts = _CHANGE_COUNTS
    drop_zero = _DROP_ZERO_COUNTS
    clear_te = _CLEAR_TE
    te_clients = _INSERT_TE_CLIENTS
    te_measures = _INSERT_TE_MEASURES
    te_health_summaries = _INSERT_TE_HEALTH_SUMMARIES
    clear_municipal = _CLEAR_MUNICIPAL
    municipal_clients = _INSERT_MUNICIPAL_CLIENTS
    municipal_transfers = _INSERT_MUNICIPAL_TRANSFERS
    health_checks = _INSERT_HEALTH_CHECKS
    final_assessments = _INSERT_FINAL_ASSESSMENTS
    erase = _ERASE
