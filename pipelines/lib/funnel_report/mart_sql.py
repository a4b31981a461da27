"""The SQL that reads the report's numbers from the published marts (the CLI's stage table is
the report's every-campaign stage totals, so both print the same figures).

Every number is a mart column, a sum of mart counts over the date range, or a rate of such
sums; all of it is computed here, in DuckDB. Each funnel shows its newest definition only
(``temp.current_<mart>`` views): rows of an older version stay in the marts but are never
added to the new one's.

Scopes: the marts hold campaign rows (and, for some, an ``(all)`` rollup). The report also needs
per-platform totals, so counts are summed over the campaign rows with GROUPING SETS at three
levels: every campaign, one platform, one campaign. Rates are then derived from those sums.
Marts whose figures do not add up (medians, the diagnostics, the momentum curve's lift) are read
as published for every campaign and per campaign; the momentum curve's platform rows are derived
from summed counts with the mart's own rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

ALL = "(all)"

STAGES = "agg_funnel_stages_daily"
CAMPAIGNS = "agg_campaign_performance"
JOURNEY_STAGES = "fct_funnel_journey_stages"
TRENDS = "agg_funnel_trends"
MOMENTUM = "agg_momentum_curve"
TIME_TO_CONVERT = "agg_time_to_convert"
INTENT = "agg_intent_segments"
DIAGNOSTICS = "agg_funnel_diagnostics"
RECOMMENDATIONS = "agg_funnel_recommendations"
COMPARISON = "agg_sequence_comparison"
FUNNEL_MARTS = (STAGES, TRENDS, MOMENTUM, TIME_TO_CONVERT, INTENT, DIAGNOSTICS, RECOMMENDATIONS)

# The scope columns of a GROUPING SETS query: ALL where the column is rolled up.
SCOPE_COLUMNS = f"""
    CASE WHEN grouping(platform) = 1 THEN '{ALL}' ELSE platform END AS platform,
    CASE WHEN grouping(campaign_id) = 1 THEN '{ALL}' ELSE campaign_id END AS campaign_id"""


def scope_sets(*keys: str) -> str:
    """GROUPING SETS over every campaign, per platform and per campaign, each with ``keys``."""
    rest = "".join(f", {key}" for key in keys)
    return (
        f"GROUPING SETS ((funnel_id{rest}), (funnel_id, platform{rest}), "
        f"(funnel_id, platform, campaign_id{rest}))"
    )


def current_view(table: str) -> str:
    """A temp view of ``table`` with each funnel's newest version only."""
    return f"""
    CREATE OR REPLACE TEMP VIEW current_{table} AS
    SELECT * FROM reporting.main.{table}
    WHERE (funnel_id, funnel_version) IN (
        SELECT (funnel_id, max(funnel_version)) FROM reporting.main.{table} GROUP BY funnel_id
    )"""


def stage_totals_sql(stages: str) -> str:
    """Stage counts of ``stages`` (agg_funnel_stages_daily or a view of it) summed over its cohort
    dates, per funnel version and scope, with the rates of those sums. The report reads the
    newest version's view; the CLI the whole mart, every version apart."""
    return f"""
    WITH totals AS (
        SELECT
            funnel_id, {SCOPE_COLUMNS}, funnel_version, stage_order,
            arg_max(stage_name, cohort_date) AS stage_name,
            CAST(sum(journeys_reached) AS BIGINT) AS journeys_reached,
            CAST(sum(journeys_advanced) AS BIGINT) AS journeys_advanced,
            CAST(sum(dropoff_count) AS BIGINT) AS dropoff_count
        FROM {stages}
        GROUP BY {scope_sets("funnel_version", "stage_order")}
    )
    SELECT
        funnel_id, funnel_version, platform, campaign_id, stage_order, stage_name,
        journeys_reached,
        -- journeys_advanced, not the next stage's reach: right with skipped optional stages.
        CASE WHEN stage_order < max(stage_order) OVER (PARTITION BY funnel_id, funnel_version)
            THEN journeys_advanced / nullif(journeys_reached, 0) END AS step_conversion_rate,
        journeys_reached / nullif(first_value(journeys_reached) OVER w, 0)
            AS overall_conversion_rate,
        dropoff_count
    FROM totals
    WINDOW w AS (
        PARTITION BY funnel_id, funnel_version, platform, campaign_id ORDER BY stage_order)
    ORDER BY funnel_id, funnel_version, platform, campaign_id, stage_order"""


def medians_sql(stages: str) -> str:
    """Exact medians of the seconds to the next stage over the range, per funnel version and
    scope, from the journeys of the versions in ``stages`` (the same figure as the marts')."""
    return f"""
    WITH journey_stages AS (
        SELECT funnel_id, funnel_version, coalesce(platform, 'organic') AS platform,
            coalesce(campaign_id, '(none)') AS campaign_id, stage_order, seconds_to_next_stage
        FROM reporting.main.{JOURNEY_STAGES}
        WHERE NOT is_excluded AND seconds_to_next_stage IS NOT NULL
            AND (funnel_id, funnel_version) IN (
                SELECT DISTINCT (funnel_id, funnel_version) FROM {stages})
    )
    SELECT funnel_id, {SCOPE_COLUMNS}, funnel_version, stage_order,
        quantile_cont(seconds_to_next_stage, 0.5) AS median_seconds_to_next_stage
    FROM journey_stages
    GROUP BY {scope_sets("funnel_version", "stage_order")}"""


STAGES_SQL = stage_totals_sql(f"temp.current_{STAGES}")

# Spend repeats on every stage row of a campaign and day: counted once per day.
HEADLINE_SQL = f"""
    WITH days AS (
        SELECT funnel_id, platform, campaign_id, cohort_date, max(spend) AS spend,
            sum(journeys_reached) FILTER (WHERE stage_order = 1) AS entries,
            sum(journeys_reached) FILTER (WHERE stage_order = last_stage) AS conversions
        FROM (SELECT *, max(stage_order) OVER (PARTITION BY funnel_id) AS last_stage
              FROM temp.current_{STAGES})
        GROUP BY ALL
    ),
    totals AS (
        SELECT funnel_id, {SCOPE_COLUMNS},
            CAST(coalesce(sum(entries), 0) AS BIGINT) AS entries,
            CAST(coalesce(sum(conversions), 0) AS BIGINT) AS conversions,
            CAST(sum(spend) AS DOUBLE) AS spend
        FROM days
        GROUP BY {scope_sets()}
    )
    SELECT funnel_id, platform, campaign_id, entries, conversions,
        conversions / nullif(entries, 0) AS conversion_rate, spend,
        spend / nullif(conversions, 0) AS cost_per_conversion
    FROM totals"""

MEDIANS_SQL = medians_sql(f"temp.current_{STAGES}")

# The CLI's table: every funnel version over every cohort and campaign, with its medians.
ALL_CAMPAIGN_STAGES_SQL = f"""
    SELECT stages.*, medians.median_seconds_to_next_stage
    FROM ({stage_totals_sql(f"reporting.main.{STAGES}")}) AS stages
    LEFT JOIN ({medians_sql(f"reporting.main.{STAGES}")}) AS medians
        USING (funnel_id, funnel_version, platform, campaign_id, stage_order)
    WHERE platform = '{ALL}' AND campaign_id = '{ALL}'
    ORDER BY funnel_id, funnel_version, stage_order"""


def trend_sql(grain: str) -> str:
    """Journeys started and converted per cohort day or ISO week, summed over campaigns."""
    week = (
        ", any_value(iso_year) AS iso_year, any_value(iso_week) AS iso_week"
        if grain == "week"
        else ""
    )
    return f"""
    WITH totals AS (
        SELECT funnel_id, {SCOPE_COLUMNS}, cohort_start,
            CAST(sum(journeys_started) AS BIGINT) AS journeys_started,
            CAST(sum(journeys_converted) AS BIGINT) AS journeys_converted,
            bool_and(is_final) AS is_final{week}
        FROM temp.current_{TRENDS}
        WHERE cohort_grain = '{grain}' AND campaign_id != '{ALL}'
        GROUP BY {scope_sets("cohort_start")}
    )
    SELECT *, journeys_converted / nullif(journeys_started, 0) AS conversion_rate
    FROM totals
    ORDER BY funnel_id, platform, campaign_id, cohort_start"""


# Published rows for every campaign and per campaign; per-platform rows summed from the
# campaign rows with the mart's rules (no lift at stage 1 nor at the last stage).
MOMENTUM_SQL = f"""
    WITH platform_counts AS (
        SELECT funnel_id, platform, '{ALL}' AS campaign_id, stage_order,
            any_value(stage_name) AS stage_name,
            CAST(sum(journeys_reached) AS BIGINT) AS journeys_reached,
            CAST(sum(journeys_converted) AS BIGINT) AS journeys_converted
        FROM temp.current_{MOMENTUM}
        WHERE campaign_id != '{ALL}'
        GROUP BY funnel_id, platform, stage_order
    ),
    platform_rates AS (
        SELECT *,
            journeys_converted / nullif(journeys_reached, 0) AS conversion_probability,
            max(stage_order) OVER (PARTITION BY funnel_id) AS last_stage
        FROM platform_counts
    ),
    platform_rows AS (
        SELECT funnel_id, platform, campaign_id, stage_order, stage_name, journeys_reached,
            journeys_converted, conversion_probability,
            CASE WHEN stage_order < last_stage THEN conversion_probability / nullif(
                lag(conversion_probability) OVER (
                    PARTITION BY funnel_id, platform ORDER BY stage_order), 0)
            END AS lift_vs_previous_stage
        FROM platform_rates
    )
    SELECT funnel_id, platform, campaign_id, stage_order, stage_name, journeys_reached,
        journeys_converted, conversion_probability, lift_vs_previous_stage
    FROM temp.current_{MOMENTUM}
    UNION ALL
    SELECT * FROM platform_rows
    ORDER BY funnel_id, platform, campaign_id, stage_order"""

TIME_TO_CONVERT_SQL = f"""
    WITH totals AS (
        SELECT funnel_id, {SCOPE_COLUMNS}, bucket_order,
            any_value(bucket_label) AS bucket_label,
            CAST(sum(conversions) AS BIGINT) AS conversions
        FROM temp.current_{TIME_TO_CONVERT}
        WHERE campaign_id != '{ALL}'
        GROUP BY {scope_sets("bucket_order")}
    )
    SELECT funnel_id, platform, campaign_id, bucket_order, bucket_label, conversions,
        CAST(sum(conversions) OVER scope AS BIGINT) AS scope_conversions,
        conversions / nullif(sum(conversions) OVER scope, 0) AS share_of_conversions,
        sum(conversions) OVER (scope ORDER BY bucket_order) / nullif(sum(conversions) OVER scope, 0)
            AS cumulative_share
    FROM totals
    WINDOW scope AS (PARTITION BY funnel_id, platform, campaign_id)
    ORDER BY funnel_id, platform, campaign_id, bucket_order"""

INTENT_SQL = f"""
    WITH totals AS (
        SELECT funnel_id, {SCOPE_COLUMNS}, intent_segment, stage_order,
            CAST(sum(journeys_reached) AS BIGINT) AS journeys_reached
        FROM temp.current_{INTENT}
        GROUP BY {scope_sets("intent_segment", "stage_order")}
    )
    SELECT funnel_id, platform, campaign_id, intent_segment, stage_order, journeys_reached,
        journeys_reached / nullif(first_value(journeys_reached) OVER (
            PARTITION BY funnel_id, platform, campaign_id, intent_segment ORDER BY stage_order
        ), 0) AS overall_conversion_rate
    FROM totals
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
    SELECT platform, campaign_id, arg_max(campaign_name, report_date) AS campaign_name,
        arg_max(currency, report_date) AS currency,
        CAST(sum(impressions) AS BIGINT) AS impressions, CAST(sum(clicks) AS BIGINT) AS clicks,
        sum(clicks) / nullif(sum(impressions), 0) AS ctr,
        CAST(sum(spend) AS DOUBLE) AS spend,
        sum(spend) / nullif(sum(clicks), 0) AS cpc,
        CAST(sum(platform_conversions) AS DOUBLE) AS platform_conversions
    FROM reporting.main.{CAMPAIGNS}
    GROUP BY platform, campaign_id"""

# The journeys of every funnel each campaign feeds.
CAMPAIGN_FUNNELS_SQL = f"""
    WITH journeys AS (
        SELECT funnel_id, platform, campaign_id,
            CAST(sum(journeys_reached) FILTER (WHERE stage_order = 1) AS BIGINT) AS journeys,
            CAST(coalesce(sum(journeys_reached) FILTER (WHERE stage_order = last_stage), 0)
                AS BIGINT) AS conversions
        FROM (SELECT *, max(stage_order) OVER (PARTITION BY funnel_id) AS last_stage
              FROM temp.current_{STAGES})
        GROUP BY funnel_id, platform, campaign_id
    ),
    -- The campaign's spend on the cohort days of this funnel's journeys (once per day).
    spend_days AS (
        SELECT funnel_id, platform, campaign_id, cohort_date, max(spend) AS spend
        FROM temp.current_{STAGES}
        GROUP BY ALL
    ),
    spend AS (
        SELECT funnel_id, platform, campaign_id, sum(spend) AS spend
        FROM spend_days GROUP BY ALL
    )
    SELECT journeys.*, conversions / nullif(journeys, 0) AS conversion_rate,
        spend.spend / nullif(conversions, 0) AS cost_per_conversion
    FROM journeys
    LEFT JOIN spend USING (funnel_id, platform, campaign_id)
    ORDER BY platform, campaign_id, funnel_id"""

COMPARISON_SQL = f"""
    SELECT * FROM reporting.main.{COMPARISON} WHERE cohort_grain = 'all'
    QUALIFY row_number() OVER (PARTITION BY micro_funnel_id, direct_funnel_id
        ORDER BY micro_funnel_version DESC, direct_funnel_version DESC) = 1
    ORDER BY micro_funnel_id, direct_funnel_id"""

RANGE_SQL = f"""
    SELECT min(cohort_date), max(cohort_date),
        count(DISTINCT cohort_date) FILTER (WHERE NOT is_final)
    FROM temp.current_{STAGES}"""


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
