"""The statistics' SQL statements (tilastojen kyselyt), formatted once per schema."""

from __future__ import annotations

from runtime.sql import SqlStatements


class StatisticsSql(SqlStatements):
    """The steering group's statistics' reads (ohjausryhmän tilastot), formatted once."""

    counts = """
        SELECT year, municipality, bucket, n FROM {schema}.steering_counts
        WHERE metric = $1 AND ($2::int IS NULL OR year = $2) AND ($3::text IS NULL OR municipality = $3)
    """
    referral_cells = """
        SELECT year, municipality, source AS bucket, sum(referred)::int AS n FROM {schema}.referrals_by_source
        GROUP BY year, municipality, source
    """
    metric_cells = "SELECT year, municipality, bucket, n FROM {schema}.steering_counts WHERE metric = $1"
    targets = """
        SELECT set_on, stream_version, target, municipalities::text FROM {schema}.intake_targets
        WHERE year = $1
    """
    referral_years = "SELECT DISTINCT year FROM {schema}.referrals_by_source ORDER BY year"
    metric_years = (
        "SELECT DISTINCT year FROM {schema}.steering_counts WHERE metric = $1 AND year <> 0 ORDER BY year"
    )
    cases = """
        SELECT facts::text FROM {schema}.centre_cases
        WHERE ($1::text IS NULL OR municipality = $1)
          AND facts ->> 'referral_date' IS NOT NULL AND facts ->> 'subsidy_days' IS NOT NULL
        ORDER BY client_id
    """
