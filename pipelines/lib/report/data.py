"""Read the reporting DuckDB file into the summaries the report draws.

Rates over a date range are recomputed from summed counts (never averaged across days). The
median time to the next stage over a range is the median of the daily medians weighted by the
journeys that advanced on each day: the marts keep no per-journey durations per stage, so an
exact range median is not available from them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

PUBLISHED_STAGES_TABLE = "agg_funnel_stages_daily"
# The report shows each funnel's newest definition only: rows of an older version stay in the
# mart (with their version) but are never added to the new one's.
STAGES_TABLE = "temp.current_funnel_stages"
CURRENT_STAGES_VIEW = f"""
    CREATE TEMP VIEW current_funnel_stages AS
    SELECT * FROM reporting.main.{PUBLISHED_STAGES_TABLE}
    WHERE (funnel_id, funnel_version) IN (
        SELECT (funnel_id, max(funnel_version))
        FROM reporting.main.{PUBLISHED_STAGES_TABLE} GROUP BY funnel_id
    )"""
CAMPAIGNS_TABLE = "agg_campaign_performance"


@dataclass(frozen=True)
class StageSummary:
    stage_order: int
    stage_name: str
    journeys_reached: int
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    dropoff_count: int
    median_seconds_to_next_stage: float | None


@dataclass(frozen=True)
class CampaignReach:
    platform: str | None
    campaign_id: str | None
    campaign_name: str | None
    currency: str | None
    spend: float | None
    reached: dict[int, int]  # stage_order -> journeys reached


@dataclass(frozen=True)
class TrendPoint:
    day: date
    overall_conversion_rate: float | None
    is_final: bool


@dataclass(frozen=True)
class FunnelSummary:
    funnel_id: str
    stages: list[StageSummary]
    campaigns: list[CampaignReach]
    trend: list[TrendPoint]


@dataclass(frozen=True)
class CampaignPerformance:
    platform: str | None
    campaign_id: str | None
    campaign_name: str | None
    currency: str | None
    impressions: int
    clicks: int
    spend: float | None
    journeys: int
    conversions: int
    platform_conversions: float | None
    first_party_conversions: int

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None

    @property
    def cpc(self) -> float | None:
        return self.spend / self.clicks if self.clicks and self.spend is not None else None

    @property
    def cost_per_conversion(self) -> float | None:
        if not self.conversions or self.spend is None:
            return None
        return self.spend / self.conversions


@dataclass(frozen=True)
class ReportData:
    source: Path
    funnels: list[FunnelSummary]
    campaigns: list[CampaignPerformance]
    first_day: date | None
    last_day: date | None
    open_cohort_days: int
    notices: list[str] = field(default_factory=list)


def _connect(reporting_db: Path) -> duckdb.DuckDBPyConnection:
    """A private instance with the file ATTACHed read-only: always the current file version,
    never a stale instance cached by this process."""
    if not reporting_db.is_file():
        raise FileNotFoundError(f"reporting database {reporting_db} does not exist")
    con = duckdb.connect(":memory:")
    path = str(reporting_db).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS reporting (READ_ONLY)")
    con.execute("USE reporting")
    return con


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'reporting' "
        "AND schema_name = 'main' AND table_name = ?",
        [table],
    ).fetchone()
    return bool(row and row[0])


def _weighted_median(pairs: list[tuple[float, int]]) -> float | None:
    pairs = sorted((v, w) for v, w in pairs if v is not None and w and w > 0)
    total = sum(w for _, w in pairs)
    if not total:
        return None
    running = 0
    for value, weight in pairs:
        running += weight
        if running * 2 >= total:
            return float(value)
    return float(pairs[-1][0])  # pragma: no cover


def load_report_data(reporting_db: Path) -> ReportData:
    """Everything the report shows, over the whole date range in the reporting file."""
    reporting_db = Path(reporting_db)
    con = _connect(reporting_db)
    try:
        notices: list[str] = []
        if not _has_table(con, PUBLISHED_STAGES_TABLE):
            notices.append(f"{PUBLISHED_STAGES_TABLE} is not published yet: no funnel to show.")
            funnels, first, last, open_days = [], None, None, 0
        else:
            con.execute(CURRENT_STAGES_VIEW)
            funnels = _funnels(con)
            row = con.execute(
                f"SELECT min(cohort_date), max(cohort_date), "
                f"count(DISTINCT cohort_date) FILTER (WHERE NOT is_final) FROM {STAGES_TABLE}"
            ).fetchone()
            first, last, open_days = row if row else (None, None, 0)
        campaigns: list[CampaignPerformance] = []
        if _has_table(con, CAMPAIGNS_TABLE):
            campaigns = _campaign_performance(con)
        else:
            notices.append(f"{CAMPAIGNS_TABLE} is not published yet: no campaign names or spend.")
        names = {(c.platform, c.campaign_id): c for c in campaigns}
        funnels = [_with_names(f, names) for f in funnels]
        return ReportData(
            source=reporting_db,
            funnels=funnels,
            campaigns=campaigns,
            first_day=first,
            last_day=last,
            open_cohort_days=int(open_days or 0),
            notices=notices,
        )
    finally:
        con.close()


def _funnels(con: duckdb.DuckDBPyConnection) -> list[FunnelSummary]:
    stage_rows = con.execute(
        f"""SELECT funnel_id, stage_order, arg_max(stage_name, cohort_date),
               sum(journeys_reached), sum(dropoff_count)
        FROM {STAGES_TABLE} GROUP BY funnel_id, stage_order ORDER BY funnel_id, stage_order"""
    ).fetchall()
    medians: dict[tuple[str, int], list[tuple[float, int]]] = defaultdict(list)
    for funnel_id, order, median, advanced in con.execute(
        f"""SELECT funnel_id, stage_order, median_seconds_to_next_stage, journeys_advanced
        FROM {STAGES_TABLE} WHERE median_seconds_to_next_stage IS NOT NULL"""
    ).fetchall():
        medians[(funnel_id, order)].append((median, advanced or 0))

    by_funnel: dict[str, list[tuple]] = defaultdict(list)
    for row in stage_rows:
        by_funnel[row[0]].append(row)

    reach = con.execute(
        f"""SELECT funnel_id, platform, campaign_id, stage_order, sum(journeys_reached)
        FROM {STAGES_TABLE} GROUP BY ALL"""
    ).fetchall()
    # Spend repeats on every stage row of a campaign and day: count it once per day.
    spend = con.execute(
        f"""SELECT funnel_id, platform, campaign_id, sum(day_spend) FROM (
            SELECT funnel_id, platform, campaign_id, cohort_date, max(spend) AS day_spend
            FROM {STAGES_TABLE} GROUP BY ALL) GROUP BY ALL"""
    ).fetchall()
    trend = con.execute(
        f"""SELECT funnel_id, cohort_date,
               sum(journeys_reached) FILTER (WHERE stage_order = last_stage),
               sum(journeys_reached) FILTER (WHERE stage_order = 1),
               bool_and(is_final)
        FROM (SELECT *, max(stage_order) OVER (PARTITION BY funnel_id) AS last_stage
              FROM {STAGES_TABLE})
        GROUP BY funnel_id, cohort_date ORDER BY funnel_id, cohort_date"""
    ).fetchall()

    funnels = []
    for funnel_id, rows in by_funnel.items():
        reached = [int(r[3] or 0) for r in rows]
        stages = []
        for i, (_, order, name, _, dropoff) in enumerate(rows):
            nxt = reached[i + 1] if i + 1 < len(rows) else None
            stages.append(
                StageSummary(
                    stage_order=int(order),
                    stage_name=str(name),
                    journeys_reached=reached[i],
                    step_conversion_rate=(nxt / reached[i])
                    if nxt is not None and reached[i]
                    else None,
                    overall_conversion_rate=(reached[i] / reached[0]) if reached[0] else None,
                    dropoff_count=int(dropoff or 0),
                    median_seconds_to_next_stage=_weighted_median(medians[(funnel_id, order)]),
                )
            )
        campaign_reach: dict[tuple, dict[int, int]] = defaultdict(dict)
        for f_id, platform, campaign_id, order, total in reach:
            if f_id == funnel_id:
                campaign_reach[(platform, campaign_id)][int(order)] = int(total or 0)
        campaign_spend = {
            (platform, campaign_id): total
            for f_id, platform, campaign_id, total in spend
            if f_id == funnel_id
        }
        campaigns = [
            CampaignReach(
                platform=key[0],
                campaign_id=key[1],
                campaign_name=None,
                currency=None,
                spend=float(campaign_spend[key]) if campaign_spend.get(key) is not None else None,
                reached=orders,
            )
            for key, orders in sorted(
                campaign_reach.items(), key=lambda kv: (-kv[1].get(1, 0), str(kv[0]))
            )
        ]
        points = [
            TrendPoint(
                day=day,
                overall_conversion_rate=(last / first) if first else None,
                is_final=bool(final),
            )
            for f_id, day, last, first, final in trend
            if f_id == funnel_id
        ]
        funnels.append(FunnelSummary(funnel_id, stages, campaigns, points))
    return funnels


def _campaign_performance(con: duckdb.DuckDBPyConnection) -> list[CampaignPerformance]:
    rows = con.execute(
        f"""SELECT platform, campaign_id, arg_max(campaign_name, report_date),
               arg_max(currency, report_date), coalesce(sum(impressions), 0),
               coalesce(sum(clicks), 0), sum(spend), coalesce(sum(journeys), 0),
               coalesce(sum(conversions), 0), sum(platform_conversions),
               coalesce(sum(first_party_conversions), 0)
        FROM {CAMPAIGNS_TABLE} GROUP BY platform, campaign_id
        ORDER BY sum(spend) DESC NULLS LAST, platform, campaign_id"""
    ).fetchall()
    return [
        CampaignPerformance(
            platform=r[0],
            campaign_id=r[1],
            campaign_name=r[2],
            currency=r[3],
            impressions=int(r[4]),
            clicks=int(r[5]),
            spend=float(r[6]) if r[6] is not None else None,
            journeys=int(r[7]),
            conversions=int(r[8]),
            platform_conversions=float(r[9]) if r[9] is not None else None,
            first_party_conversions=int(r[10]),
        )
        for r in rows
    ]


def _with_names(funnel: FunnelSummary, names: dict[tuple, CampaignPerformance]) -> FunnelSummary:
    campaigns = []
    for c in funnel.campaigns:
        perf = names.get((c.platform, c.campaign_id))
        campaigns.append(
            CampaignReach(
                platform=c.platform,
                campaign_id=c.campaign_id,
                campaign_name=perf.campaign_name if perf else None,
                currency=perf.currency if perf else None,
                spend=c.spend,
                reached=c.reached,
            )
        )
    return FunnelSummary(funnel.funnel_id, funnel.stages, campaigns, funnel.trend)
