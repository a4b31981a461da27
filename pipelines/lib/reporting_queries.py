"""Read-only queries the CLI prints from the reporting DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb

STAGE_TOTALS_SQL = """
    with totals as (
        select
            funnel_id,
            stage_order,
            any_value(stage_name) as stage_name,
            cast(sum(journeys_reached) as bigint) as journeys_reached,
            cast(sum(dropoff_count) as bigint) as dropoff_count
        from agg_funnel_stages_daily
        group by funnel_id, stage_order
    ),

    medians as (
        select
            funnel_id,
            stage_order,
            quantile_cont(seconds_to_next_stage, 0.5) as median_seconds_to_next_stage
        from fct_funnel_journey_stages
        group by funnel_id, stage_order
    )

    select
        totals.*,
        lead(totals.journeys_reached) over w * 1.0 / nullif(totals.journeys_reached, 0)
            as step_conversion_rate,
        totals.journeys_reached * 1.0 / nullif(first_value(totals.journeys_reached) over w, 0)
            as overall_conversion_rate,
        medians.median_seconds_to_next_stage
    from totals
    left join medians using (funnel_id, stage_order)
    window w as (partition by totals.funnel_id order by totals.stage_order)
    order by totals.funnel_id, totals.stage_order
"""


def stage_totals(reporting_db: Path) -> dict[str, list[dict[str, object]]]:
    """Per funnel, one dict per stage summed over every cohort and campaign."""
    with duckdb.connect(str(reporting_db), read_only=True) as con:
        cursor = con.execute(STAGE_TOTALS_SQL)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    by_funnel: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_funnel.setdefault(str(row["funnel_id"]), []).append(row)
    return by_funnel
