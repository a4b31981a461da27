"""The SQL that reads the report's numbers from the published marts (the CLI's stage table is
the report's every-campaign stage totals, so both print the same figures).

Every number is a mart column, read as published: the totals over the date range and the
rollups per platform and over every campaign are computed by the dbt models (the *_totals marts
and the '(all)' rows), where dbt tests check them. These queries only pick rows: each funnel's
newest definition (``temp.current_<mart>`` views; rows of an older version stay in the marts
but are never shown beside the new one's) and the scope a section draws.

Scopes: platform and campaign_id name a campaign; campaign_id '(all)' a platform's rollup;
both '(all)' the rollup over every campaign.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

ALL = "(all)"

STAGE_TOTALS = "agg_funnel_stage_totals"
CAMPAIGNS = "agg_campaign_totals"
TRENDS = "agg_funnel_trends"
MOMENTUM = "agg_momentum_curve"
TIME_TO_CONVERT = "agg_time_to_convert"
INTENT = "agg_intent_segment_totals"
DIAGNOSTICS = "agg_funnel_diagnostics"
RECOMMENDATIONS = "agg_funnel_recommendations"
COMPARISON = "agg_sequence_comparison"
FUNNEL_MARTS = (
    STAGE_TOTALS,
    TRENDS,
    MOMENTUM,
    TIME_TO_CONVERT,
    INTENT,
    DIAGNOSTICS,
    RECOMMENDATIONS,
)


def current_view(table: str) -> str:
    """A temp view of ``table`` with each funnel's newest version only."""
    return f"""
    CREATE OR REPLACE TEMP VIEW current_{table} AS
    SELECT * FROM reporting.main.{table}
    WHERE (funnel_id, funnel_version) IN (
        SELECT (funnel_id, max(funnel_version)) FROM reporting.main.{table} GROUP BY funnel_id
    )"""


STAGE_COLUMNS = """funnel_id, funnel_version, platform, campaign_id, stage_order, stage_name,
        journeys_reached, step_conversion_rate, overall_conversion_rate, dropoff_count,
        median_seconds_to_next_stage"""

STAGES_SQL = f"""
    SELECT {STAGE_COLUMNS}
    FROM temp.current_{STAGE_TOTALS}
    ORDER BY funnel_id, platform, campaign_id, stage_order"""

# The scope's figures repeat on each of its stage rows: read from stage 1's.
HEADLINE_SQL = f"""
    SELECT funnel_id, platform, campaign_id, entries, conversions, conversion_rate, spend,
        cost_per_conversion
    FROM temp.current_{STAGE_TOTALS}
    WHERE stage_order = 1"""

# The CLI's table: every funnel version over every cohort and campaign.
ALL_CAMPAIGN_STAGES_SQL = f"""
    SELECT {STAGE_COLUMNS}
    FROM reporting.main.{STAGE_TOTALS}
    WHERE platform = '{ALL}' AND campaign_id = '{ALL}'
    ORDER BY funnel_id, funnel_version, stage_order"""


# The CLI's platforms side by side: the newest version of each funnel, per platform.
PLATFORM_STAGES_SQL = f"""
    SELECT funnel_id, funnel_version, platform, stage_order, stage_name, journeys_reached,
        entries, conversions, conversion_rate, spend, cost_per_conversion
    FROM reporting.main.{STAGE_TOTALS}
    WHERE platform <> '{ALL}' AND campaign_id = '{ALL}'
    QUALIFY funnel_version = max(funnel_version) OVER (PARTITION BY funnel_id)
    ORDER BY funnel_id, platform, stage_order"""


def trend_sql(grain: str) -> str:
    """Journeys started and converted per cohort day or ISO week, every scope."""
    return f"""
    SELECT funnel_id, platform, campaign_id, cohort_start, iso_year, iso_week,
        journeys_started, journeys_converted, conversion_rate, is_final
    FROM temp.current_{TRENDS}
    WHERE cohort_grain = '{grain}'
    ORDER BY funnel_id, platform, campaign_id, cohort_start"""


MOMENTUM_SQL = f"""
    SELECT funnel_id, platform, campaign_id, stage_order, stage_name, journeys_reached,
        journeys_converted, conversion_probability, lift_vs_previous_stage
    FROM temp.current_{MOMENTUM}
    ORDER BY funnel_id, platform, campaign_id, stage_order"""

TIME_TO_CONVERT_SQL = f"""
    SELECT funnel_id, platform, campaign_id, bucket_order, bucket_label, conversions,
        total_conversions AS scope_conversions, share_of_conversions, cumulative_share
    FROM temp.current_{TIME_TO_CONVERT}
    ORDER BY funnel_id, platform, campaign_id, bucket_order"""

INTENT_SQL = f"""
    SELECT funnel_id, platform, campaign_id, intent_segment, stage_order, journeys_reached,
        overall_conversion_rate
    FROM temp.current_{INTENT}
    ORDER BY funnel_id, platform, campaign_id,
        CASE intent_segment WHEN 'early' THEN 1 WHEN 'mid' THEN 2 WHEN 'late' THEN 3 END,
        stage_order"""

DIAGNOSTICS_SQL = f"""
    SELECT funnel_id, platform, campaign_id, finding, stage_order, stage_name, evidence
    FROM temp.current_{DIAGNOSTICS}
    WHERE is_flagged
    ORDER BY funnel_id, platform, campaign_id, stage_order NULLS FIRST, finding"""

RECOMMENDATIONS_SQL = f"""
    SELECT scope, priority, funnel_id, platform, campaign_id, recommendation, stage_name,
        action, journeys_at_stake, entries, share_at_stake, spend_at_stake, evidence, is_final
    FROM temp.current_{RECOMMENDATIONS}
    ORDER BY scope DESC, priority"""

# The platform's numbers per campaign.
CAMPAIGNS_SQL = f"""
    SELECT platform, campaign_id, campaign_name, currency, impressions, clicks, ctr, spend, cpc,
        platform_conversions
    FROM reporting.main.{CAMPAIGNS}"""

# The journeys of every funnel each campaign feeds, with the campaign's spend on their days.
CAMPAIGN_FUNNELS_SQL = f"""
    SELECT funnel_id, platform, campaign_id, entries AS journeys, conversions, conversion_rate,
        cost_per_conversion
    FROM temp.current_{STAGE_TOTALS}
    WHERE stage_order = 1 AND campaign_id != '{ALL}'
    ORDER BY platform, campaign_id, funnel_id"""

COMPARISON_SQL = f"""
    SELECT * FROM reporting.main.{COMPARISON} WHERE cohort_grain = 'all'
    QUALIFY row_number() OVER (PARTITION BY micro_funnel_id, direct_funnel_id
        ORDER BY micro_funnel_version DESC, direct_funnel_version DESC) = 1
    ORDER BY micro_funnel_id, direct_funnel_id"""

# The cohort days shown, and how many of them are still open (the most of any funnel).
RANGE_SQL = f"""
    SELECT min(first_cohort_date), max(last_cohort_date), max(provisional_cohort_days)
    FROM temp.current_{STAGE_TOTALS}
    WHERE platform = '{ALL}' AND campaign_id = '{ALL}'"""


def connect(reporting_db: Path) -> duckdb.DuckDBPyConnection:
    """A private instance with the file ATTACHed read-only as ``reporting``: always the current
    file version, never a stale instance cached by this process."""
    if not reporting_db.is_file():
        raise FileNotFoundError(f"reporting database {reporting_db} does not exist")
    con = duckdb.connect(":memory:")
    path = str(reporting_db).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS reporting (READ_ONLY)")
    con.execute("USE reporting")
    return con


def published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the attached reporting file."""
    found = con.execute(
        "SELECT table_name FROM duckdb_tables() "
        "WHERE database_name = 'reporting' AND schema_name = 'main'"
    ).fetchall()
    return {name for (name,) in found}


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    """The query's rows as dicts by column name."""
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
