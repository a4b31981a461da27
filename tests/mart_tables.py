"""Mart table shapes shared by the publish and report tests (a subset of the dbt contracts;
columns added to a contract later are appended here, so positional test rows stay short)."""

import duckdb

AGG_FUNNEL_STAGES_DAILY_DDL = """
    CREATE TABLE agg_funnel_stages_daily (funnel_id VARCHAR, cohort_date DATE,
        platform VARCHAR, campaign_id VARCHAR, stage_order INTEGER, stage_name VARCHAR,
        journeys_reached BIGINT, users_reached BIGINT, journeys_advanced BIGINT,
        step_conversion_rate DOUBLE, overall_conversion_rate DOUBLE, dropoff_count BIGINT,
        median_seconds_to_next_stage DOUBLE, p90_seconds_to_next_stage DOUBLE,
        avg_engaged_seconds DOUBLE, spend DECIMAL(18, 2), cost_per_journey_reached DOUBLE,
        is_final BOOLEAN, journeys_excluded BIGINT, funnel_version INTEGER)"""

AGG_CAMPAIGN_PERFORMANCE_DDL = """
    CREATE TABLE agg_campaign_performance (report_date DATE, platform VARCHAR,
        campaign_id VARCHAR, campaign_name VARCHAR, impressions BIGINT, clicks BIGINT,
        spend DECIMAL(18, 2), currency VARCHAR, ctr DOUBLE, cpc DOUBLE, journeys BIGINT,
        conversions BIGINT, cost_per_conversion DOUBLE, platform_conversions DOUBLE,
        first_party_conversions BIGINT)"""


def create_aggregate_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The two aggregate marts the report reads, empty."""
    con.execute(AGG_FUNNEL_STAGES_DAILY_DDL)
    con.execute(AGG_CAMPAIGN_PERFORMANCE_DDL)
