"""Read the reporting DuckDB file into the values the report draws (model.py).

The numbers are mart columns picked by the SQL in mart_sql.py; this module only runs it and
groups the rows per funnel and scope. Every mart but agg_funnel_stage_totals is optional: a file
without it (an older reporting file) renders without the sections that need it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.funnel_report import mart_sql as q
from pipelines.lib.funnel_report.model import (
    EVERY,
    CampaignFunnel,
    CampaignRow,
    ComparisonSide,
    DayPoint,
    Finding,
    FunnelReport,
    FunnelView,
    Headline,
    MomentumPoint,
    Recommendation,
    ReportData,
    Scope,
    SegmentSummary,
    SequenceComparison,
    StageSummary,
    TimeBucket,
    WeekPoint,
)

# Each funnel draws its own view for the campaigns with the most journeys only: a view is some
# 25 kB of SVG and tables, so thousands of campaigns would make a page no browser opens quickly.
# The others keep their rows in the campaign table and the recommendations.
MAX_CAMPAIGN_VIEWS = 40


# Values straight from DuckDB rows (int, float, Decimal or None): typed Any, as the cursor gives.
def _num(value: Any) -> float | None:
    """A float, with SQL NULL and NaN both as None."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _by_scope(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, Scope], list[dict[str, Any]]]:
    """Rows grouped by (funnel_id, (platform, campaign_id)), in query order."""
    grouped: dict[tuple[str, Scope], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row["funnel_id"], (row["platform"], row["campaign_id"]))].append(row)
    return grouped


def load_report_data(reporting_db: Path) -> ReportData:
    """Everything the report shows, over the whole date range in the reporting file."""
    reporting_db = Path(reporting_db)
    con = q.connect(reporting_db)
    try:
        published = q.published_tables(con)
        for table in q.FUNNEL_MARTS:
            if table in published:
                con.execute(q.current_view(table))
        notices = [
            f"{table} is not published yet: {what}."
            for table, what in [
                (q.STAGE_TOTALS, "no funnel to show"),
                (q.CAMPAIGNS, "no campaign names or ad platform numbers"),
            ]
            if table not in published
        ]
        if q.STAGE_TOTALS in published:
            funnels = _funnels(con, published)
            first, last, open_days = con.execute(q.RANGE_SQL).fetchone() or (None, None, 0)
        else:
            funnels, first, last, open_days = [], None, None, 0
        campaigns = _campaigns(con, published)
        names: dict[Scope, str | None] = {
            (c.platform, c.campaign_id): c.campaign_name for c in campaigns
        }
        for funnel in funnels:
            for platform, campaign_id in funnel.views:
                if campaign_id != q.ALL:
                    names.setdefault((platform, campaign_id), None)
        currencies = {c.currency for c in campaigns if c.currency}
        return ReportData(
            source=reporting_db,
            funnels=funnels,
            campaigns=campaigns,
            first_day=first,
            last_day=last,
            open_cohort_days=int(open_days or 0),
            notices=notices,
            comparisons=_comparisons(con) if q.COMPARISON in published else [],
            recommendations=_recommendations(con) if q.RECOMMENDATIONS in published else [],
            currency=currencies.pop() if len(currencies) == 1 else None,
            campaign_names=dict(sorted(names.items())),
        )
    finally:
        con.close()


def _optional(
    con: duckdb.DuckDBPyConnection, published: set[str], table: str, sql: str
) -> dict[tuple[str, Scope], list[dict[str, Any]]]:
    return _by_scope(q.rows(con, sql)) if table in published else {}


def _funnels(con: duckdb.DuckDBPyConnection, published: set[str]) -> list[FunnelReport]:
    stages = _by_scope(q.rows(con, q.STAGES_SQL))
    headlines = {
        (r["funnel_id"], (r["platform"], r["campaign_id"])): r for r in q.rows(con, q.HEADLINE_SQL)
    }
    daily = _optional(con, published, q.TRENDS, q.trend_sql("day"))
    weekly = _optional(con, published, q.TRENDS, q.trend_sql("week"))
    momentum = _optional(con, published, q.MOMENTUM, q.MOMENTUM_SQL)
    buckets = _optional(con, published, q.TIME_TO_CONVERT, q.TIME_TO_CONVERT_SQL)
    intent = _optional(con, published, q.INTENT, q.INTENT_SQL)
    findings = _optional(con, published, q.DIAGNOSTICS, q.DIAGNOSTICS_SQL)
    versions = dict(
        con.execute(
            f"SELECT funnel_id, max(funnel_version) FROM temp.current_{q.STAGE_TOTALS} GROUP BY ALL"
        ).fetchall()
    )

    views: dict[str, dict[Scope, FunnelView]] = defaultdict(dict)
    # EVERY sorts first: '(all)' comes before any platform or campaign id in ASCII.
    for key in sorted(stages):
        funnel_id, scope = key
        head = headlines[key]
        views[funnel_id][scope] = FunnelView(
            scope=scope,
            headline=Headline(
                entries=int(head["entries"]),
                conversions=int(head["conversions"]),
                conversion_rate=_num(head["conversion_rate"]),
                spend=_num(head["spend"]),
                cost_per_conversion=_num(head["cost_per_conversion"]),
            ),
            stages=[
                StageSummary(
                    stage_order=int(r["stage_order"]),
                    stage_name=str(r["stage_name"]),
                    journeys_reached=int(r["journeys_reached"] or 0),
                    step_conversion_rate=_num(r["step_conversion_rate"]),
                    overall_conversion_rate=_num(r["overall_conversion_rate"]),
                    dropoff_count=int(r["dropoff_count"] or 0),
                    median_seconds_to_next_stage=_num(r["median_seconds_to_next_stage"]),
                )
                for r in stages[key]
            ],
            daily=[_day(r) for r in daily.get(key, [])],
            weekly=[_week(r) for r in weekly.get(key, [])],
            momentum=[_momentum(r) for r in momentum.get(key, [])],
            time_to_convert=[_bucket(r) for r in buckets.get(key, [])],
            segments=_segments(intent.get(key, [])),
            findings=[
                Finding(str(r["finding"]), _int(r["stage_order"]), r["stage_name"], r["evidence"])
                for r in findings.get(key, [])
            ],
        )
    return [
        limit_campaign_views(FunnelReport(funnel_id, versions.get(funnel_id), by_scope))
        for funnel_id, by_scope in sorted(views.items())
        if EVERY in by_scope
    ]


def limit_campaign_views(funnel: FunnelReport, limit: int = MAX_CAMPAIGN_VIEWS) -> FunnelReport:
    """Keep the views of every campaign, each platform and the ``limit`` campaigns with the
    most entries (ties: by platform and campaign id)."""
    campaigns = sorted(
        (scope for scope in funnel.views if scope[1] != q.ALL),
        key=lambda scope: (-funnel.views[scope].headline.entries, scope),
    )
    undrawn = {scope: funnel.views[scope].headline.entries for scope in campaigns[limit:]}
    if not undrawn:
        return funnel
    kept = {scope: view for scope, view in funnel.views.items() if scope not in undrawn}
    return FunnelReport(funnel.funnel_id, funnel.funnel_version, kept, undrawn)


def _day(r: dict[str, Any]) -> DayPoint:
    return DayPoint(
        day=r["cohort_start"],
        journeys_started=int(r["journeys_started"]),
        journeys_converted=int(r["journeys_converted"]),
        conversion_rate=_num(r["conversion_rate"]),
        is_final=bool(r["is_final"]),
    )


def _week(r: dict[str, Any]) -> WeekPoint:
    return WeekPoint(
        week_start=r["cohort_start"],
        iso_year=int(r["iso_year"]),
        iso_week=int(r["iso_week"]),
        journeys_started=int(r["journeys_started"]),
        journeys_converted=int(r["journeys_converted"]),
        conversion_rate=_num(r["conversion_rate"]),
        is_final=bool(r["is_final"]),
    )


def _momentum(r: dict[str, Any]) -> MomentumPoint:
    return MomentumPoint(
        stage_order=int(r["stage_order"]),
        stage_name=str(r["stage_name"]),
        journeys_reached=int(r["journeys_reached"] or 0),
        journeys_converted=int(r["journeys_converted"] or 0),
        conversion_probability=_num(r["conversion_probability"]),
        lift_vs_previous_stage=_num(r["lift_vs_previous_stage"]),
    )


def _bucket(r: dict[str, Any]) -> TimeBucket:
    return TimeBucket(
        bucket_order=int(r["bucket_order"]),
        bucket_label=str(r["bucket_label"]),
        conversions=int(r["conversions"] or 0),
        share_of_conversions=_num(r["share_of_conversions"]),
        cumulative_share=_num(r["cumulative_share"]),
        scope_conversions=int(r["scope_conversions"] or 0),
    )


def _segments(rows: list[dict[str, Any]]) -> list[SegmentSummary]:
    by_segment: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_segment[row["intent_segment"]].append(row)
    return [
        SegmentSummary(
            intent_segment=segment,
            reached=tuple(int(r["journeys_reached"] or 0) for r in stage_rows),
            overall_conversion_rate=_num(stage_rows[-1]["overall_conversion_rate"]),
        )
        for segment, stage_rows in by_segment.items()
    ]


def _campaigns(con: duckdb.DuckDBPyConnection, published: set[str]) -> list[CampaignRow]:
    """One row per campaign with ad numbers or journeys, biggest spend first."""
    performance = {
        (r["platform"], r["campaign_id"]): r
        for r in (q.rows(con, q.CAMPAIGNS_SQL) if q.CAMPAIGNS in published else [])
    }
    funnels: dict[Scope, list[CampaignFunnel]] = defaultdict(list)
    if q.STAGE_TOTALS in published:
        for r in q.rows(con, q.CAMPAIGN_FUNNELS_SQL):
            funnels[(r["platform"], r["campaign_id"])].append(
                CampaignFunnel(
                    funnel_id=str(r["funnel_id"]),
                    journeys=int(r["journeys"] or 0),
                    conversions=int(r["conversions"] or 0),
                    conversion_rate=_num(r["conversion_rate"]),
                    cost_per_conversion=_num(r["cost_per_conversion"]),
                )
            )
    rows = []
    for key in performance.keys() | funnels.keys():
        perf = performance.get(key, {})
        rows.append(
            CampaignRow(
                platform=key[0],
                campaign_id=key[1],
                campaign_name=perf.get("campaign_name"),
                currency=perf.get("currency"),
                impressions=_int(perf.get("impressions")),
                clicks=_int(perf.get("clicks")),
                ctr=_num(perf.get("ctr")),
                spend=_num(perf.get("spend")),
                cpc=_num(perf.get("cpc")),
                platform_conversions=_num(perf.get("platform_conversions")),
                funnels=funnels.get(key, []),
            )
        )
    return sorted(rows, key=lambda c: (-(c.spend or 0.0), c.platform, c.campaign_id))


def _recommendations(con: duckdb.DuckDBPyConnection) -> list[Recommendation]:
    return [
        Recommendation(
            scope=str(r["scope"]),
            priority=int(r["priority"]),
            funnel_id=str(r["funnel_id"]),
            platform=str(r["platform"]),
            campaign_id=str(r["campaign_id"]),
            recommendation=str(r["recommendation"]),
            stage_name=r["stage_name"],
            action=str(r["action"]),
            journeys_at_stake=int(r["journeys_at_stake"]),
            entries=int(r["entries"]),
            share_at_stake=_num(r["share_at_stake"]),
            spend_at_stake=_num(r["spend_at_stake"]),
            evidence=str(r["evidence"]),
            is_final=bool(r["is_final"]),
        )
        for r in q.rows(con, q.RECOMMENDATIONS_SQL)
    ]


def _comparisons(con: duckdb.DuckDBPyConnection) -> list[SequenceComparison]:
    """The all-cohort comparison of each (micro, direct) pair, newest definitions of both."""
    result = []
    for row in q.rows(con, q.COMPARISON_SQL):

        def side(prefix: str, row: dict[str, Any] = row) -> ComparisonSide:
            return ComparisonSide(
                funnel_id=str(row[f"{prefix}_funnel_id"]),
                funnel_version=_int(row[f"{prefix}_funnel_version"]),
                entries=int(row[f"{prefix}_entries"] or 0),
                conversions=int(row[f"{prefix}_conversions"] or 0),
                conversion_rate=_num(row[f"{prefix}_conversion_rate"]),
                ci_low=_num(row[f"{prefix}_ci_low"]),
                ci_high=_num(row[f"{prefix}_ci_high"]),
                spend=_num(row[f"{prefix}_spend"]),
                cost_per_conversion=_num(row[f"{prefix}_cost_per_conversion"]),
            )

        result.append(
            SequenceComparison(
                micro=side("micro"),
                direct=side("direct"),
                absolute_lift=_num(row["absolute_lift"]),
                relative_lift=_num(row["relative_lift"]),
                z_score=_num(row["z_score"]),
                p_value=_num(row["p_value"]),
                is_significant=row["is_significant"],
                verdict=row["verdict"],
                is_final=row["is_final"],
            )
        )
    return result
