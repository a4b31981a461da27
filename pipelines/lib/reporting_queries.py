"""Read-only queries the CLI prints from the reporting DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Summed over cohorts and campaigns per funnel version; the step rate sums journeys_advanced
# (not the next stage's reach), which stays right when optional stages are skipped.
STAGE_TOTALS_SQL = """
    with totals as (
        select
            funnel_id,
            funnel_version,
            stage_order,
            any_value(stage_name) as stage_name,
            cast(sum(journeys_reached) as bigint) as journeys_reached,
            cast(sum(journeys_advanced) as bigint) as journeys_advanced,
            cast(sum(dropoff_count) as bigint) as dropoff_count
        from agg_funnel_stages_daily
        group by funnel_id, funnel_version, stage_order
    ),

    medians as (
        select
            funnel_id,
            funnel_version,
            stage_order,
            quantile_cont(seconds_to_next_stage, 0.5) as median_seconds_to_next_stage
        from fct_funnel_journey_stages
        where not is_excluded and seconds_to_next_stage is not null
        group by funnel_id, funnel_version, stage_order
    )

    select
        totals.funnel_id,
        totals.funnel_version,
        totals.stage_order,
        totals.stage_name,
        totals.journeys_reached,
        totals.dropoff_count,
        totals.journeys_advanced * 1.0 / nullif(totals.journeys_reached, 0)
            as step_conversion_rate,
        totals.journeys_reached * 1.0 / nullif(first_value(totals.journeys_reached) over w, 0)
            as overall_conversion_rate,
        medians.median_seconds_to_next_stage
    from totals
    left join medians using (funnel_id, funnel_version, stage_order)
    window w as (partition by totals.funnel_id, totals.funnel_version order by totals.stage_order)
    order by totals.funnel_id, totals.funnel_version, totals.stage_order
"""

VERDICTS_SQL = """
    select micro_funnel_id, direct_funnel_id, verdict
    from agg_sequence_comparison
    where cohort_grain = 'all'
    order by micro_funnel_id, direct_funnel_id
"""


def stage_totals(reporting_db: Path) -> dict[str, list[dict[str, object]]]:
    """Per funnel and version, one dict per stage summed over every cohort and campaign."""
    with duckdb.connect(str(reporting_db), read_only=True) as con:
        cursor = con.execute(STAGE_TOTALS_SQL)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    by_funnel: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        label = f"{row['funnel_id']}, version {row['funnel_version']}"
        by_funnel.setdefault(label, []).append(row)
    return by_funnel


def comparison_verdicts(reporting_db: Path) -> list[str]:
    """One line per micro / direct funnel pair over every cohort, in plain words."""
    with duckdb.connect(str(reporting_db), read_only=True) as con:
        published = con.execute(
            "select count(*) from duckdb_tables() where table_name = 'agg_sequence_comparison'"
        ).fetchone()
        if not published or not published[0]:
            return []  # not published yet (e.g. a reporting file from an older version)
        rows = con.execute(VERDICTS_SQL).fetchall()
    return [f"{micro} vs {direct}: {verdict}" for micro, direct, verdict in rows]
