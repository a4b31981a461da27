"""Read-only queries the CLI prints from the reporting DuckDB file."""

from __future__ import annotations

from pathlib import Path

from pipelines.lib.funnel_report import mart_sql as q

VERDICTS_SQL = f"""
    SELECT micro_funnel_id, direct_funnel_id, verdict
    FROM reporting.main.{q.COMPARISON}
    WHERE cohort_grain = 'all'
    ORDER BY micro_funnel_id, direct_funnel_id"""


def stage_totals(reporting_db: Path) -> dict[str, list[dict[str, object]]]:
    """Per funnel and version, one dict per stage summed over every cohort and campaign (the
    report's stage totals at its every-campaign scope, older versions included)."""
    con = q.connect(Path(reporting_db))
    try:
        rows = q.rows(con, q.ALL_CAMPAIGN_STAGES_SQL)
    finally:
        con.close()
    by_funnel: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        label = f"{row['funnel_id']}, version {row['funnel_version']}"
        by_funnel.setdefault(label, []).append(row)
    return by_funnel


def platform_stages(reporting_db: Path) -> dict[str, list[dict[str, object]]]:
    """Per funnel (its newest version), one dict per platform and stage: the platform rollup of
    agg_funnel_stage_totals, with the platform's entries, conversions and spend on each row."""
    con = q.connect(Path(reporting_db))
    try:
        rows = q.rows(con, q.PLATFORM_STAGES_SQL)
    finally:
        con.close()
    by_funnel: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        label = f"{row['funnel_id']}, version {row['funnel_version']}"
        by_funnel.setdefault(label, []).append(row)
    return by_funnel


def comparison_verdicts(reporting_db: Path) -> list[str]:
    """One line per micro / direct funnel pair over every cohort, in plain words."""
    con = q.connect(Path(reporting_db))
    try:
        if q.COMPARISON not in q.published_tables(con):
            return []  # not published yet (e.g. a reporting file from an older version)
        rows = con.execute(VERDICTS_SQL).fetchall()
    finally:
        con.close()
    return [f"{micro} vs {direct}: {verdict}" for micro, direct, verdict in rows]
