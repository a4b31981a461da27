"""Read the reporting DuckDB file into the summaries the report draws.

Rates over a date range are recomputed from summed counts (never averaged across days). The
median time to the next stage over a range is the median of the daily medians weighted by the
journeys that advanced on each day: the marts keep no per-journey durations per stage, so an
exact range median is not available from them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
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
JOURNEY_STAGES_TABLE = "fct_funnel_journey_stages"
# Analysis marts: each optional (older reporting files lack them; their sections are skipped).
COMPARISON_TABLE = "agg_sequence_comparison"
MOMENTUM_TABLE = "agg_momentum_curve"
TIME_TO_CONVERT_TABLE = "agg_time_to_convert"
DIAGNOSTICS_TABLE = "agg_funnel_diagnostics"
# The rollup over every campaign (docs/funnels.md section 3).
ALL_CAMPAIGNS = "(all)"


def _current_view(table: str) -> str:
    """A temp view of ``table`` with each funnel's newest version only (as for the stages)."""
    return f"""
    CREATE OR REPLACE TEMP VIEW current_{table} AS
    SELECT * FROM reporting.main.{table}
    WHERE (funnel_id, funnel_version) IN (
        SELECT (funnel_id, max(funnel_version)) FROM reporting.main.{table} GROUP BY funnel_id
    )"""


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
class MomentumPoint:
    """P(final conversion | stage reached), over every campaign."""

    stage_order: int
    stage_name: str
    journeys_reached: int
    journeys_converted: int
    conversion_probability: float | None
    lift_vs_previous_stage: float | None


@dataclass(frozen=True)
class TimeBucket:
    bucket_order: int
    bucket_label: str
    lower_seconds: int | None
    upper_seconds: int | None  # exclusive; None for the open last bucket
    conversions: int
    share_of_conversions: float | None
    cumulative_share: float | None


@dataclass(frozen=True)
class Finding:
    """A flagged diagnostic over every campaign; ``evidence`` is the mart's own sentence."""

    finding: str
    stage_order: int | None
    stage_name: str | None
    next_stage_name: str | None
    metric_name: str | None
    metric_value: float | None
    threshold: float | None
    journeys: int | None
    evidence: str | None


@dataclass(frozen=True)
class FunnelSummary:
    funnel_id: str
    stages: list[StageSummary]
    campaigns: list[CampaignReach]
    trend: list[TrendPoint]
    funnel_version: int | None = None
    momentum: list[MomentumPoint] = field(default_factory=list)
    time_to_convert: list[TimeBucket] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class ComparisonSide:
    funnel_id: str
    funnel_version: int | None
    entries: int
    conversions: int
    conversion_rate: float | None
    ci_low: float | None
    ci_high: float | None
    spend: float | None
    cost_per_conversion: float | None


@dataclass(frozen=True)
class SequenceComparison:
    """Micro-commitment sequence vs direct ask over every cohort (``cohort_grain = 'all'``)."""

    micro: ComparisonSide
    direct: ComparisonSide
    absolute_lift: float | None
    relative_lift: float | None
    z_score: float | None
    p_value: float | None
    is_significant: bool | None
    verdict: str | None
    is_final: bool | None


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
    comparisons: list[SequenceComparison] = field(default_factory=list)
    currency: str | None = None  # the one currency of every campaign, if there is one


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
        analysis = _analysis(con)
        funnels = [replace(_with_names(f, names), **analysis.get(f.funnel_id, {})) for f in funnels]
        currencies = {c.currency for c in campaigns if c.currency}
        comparisons = _comparisons(con) if _has_table(con, COMPARISON_TABLE) else []
        return ReportData(
            source=reporting_db,
            funnels=funnels,
            campaigns=campaigns,
            first_day=first,
            last_day=last,
            open_cohort_days=int(open_days or 0),
            notices=notices,
            comparisons=comparisons,
            currency=currencies.pop() if len(currencies) == 1 else None,
        )
    finally:
        con.close()


def _funnels(con: duckdb.DuckDBPyConnection) -> list[FunnelSummary]:
    stage_rows = con.execute(
        f"""SELECT funnel_id, stage_order, arg_max(stage_name, cohort_date),
               sum(journeys_reached), sum(dropoff_count), sum(journeys_advanced)
        FROM {STAGES_TABLE} GROUP BY funnel_id, stage_order ORDER BY funnel_id, stage_order"""
    ).fetchall()
    medians: dict[tuple[str, int], list[tuple[float, int]]] = defaultdict(list)
    if _has_table(con, JOURNEY_STAGES_TABLE):
        # The exact median over the range, from the journeys (same figure as the marts').
        median_sql = f"""SELECT stages.funnel_id, stages.stage_order,
               quantile_cont(stages.seconds_to_next_stage, 0.5), 1
            FROM reporting.main.{JOURNEY_STAGES_TABLE} AS stages
            JOIN (SELECT DISTINCT funnel_id, funnel_version FROM {STAGES_TABLE}) AS current
                USING (funnel_id, funnel_version)
            WHERE NOT stages.is_excluded AND stages.seconds_to_next_stage IS NOT NULL
            GROUP BY ALL"""
    else:  # older reporting files: the daily medians weighted by journeys advanced
        median_sql = f"""SELECT funnel_id, stage_order, median_seconds_to_next_stage,
               journeys_advanced
            FROM {STAGES_TABLE} WHERE median_seconds_to_next_stage IS NOT NULL"""
    for funnel_id, order, median, weight in con.execute(median_sql).fetchall():
        medians[(funnel_id, order)].append((median, weight or 0))

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

    versions = dict(
        con.execute(
            f"SELECT funnel_id, max(funnel_version) FROM {STAGES_TABLE} GROUP BY ALL"
        ).fetchall()
    )
    funnels = []
    for funnel_id, rows in by_funnel.items():
        reached = [int(r[3] or 0) for r in rows]
        stages = []
        for i, (_, order, name, _, dropoff, advanced) in enumerate(rows):
            # journeys_advanced, not the next stage's reach: right with skipped optional stages.
            nxt = int(advanced or 0) if i + 1 < len(rows) else None
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
        funnels.append(
            FunnelSummary(funnel_id, stages, campaigns, points, funnel_version=versions[funnel_id])
        )
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
    return replace(funnel, campaigns=campaigns)


def _num(value: object) -> float | None:
    """A float, with SQL NULL and NaN both as None."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _analysis_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: str, order: str, where: str = ""
) -> dict[str, list[tuple]]:
    """Rows of an optional per-funnel analysis mart (newest version, every-campaign rollup),
    keyed by funnel_id; empty when the table is not in the file."""
    if not _has_table(con, table):
        return {}
    con.execute(_current_view(table))
    rows = con.execute(
        f"SELECT funnel_id, {columns} FROM temp.current_{table} "
        f"WHERE campaign_id = ? {where} ORDER BY funnel_id, {order}",
        [ALL_CAMPAIGNS],
    ).fetchall()
    by_funnel: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_funnel[row[0]].append(row[1:])
    return by_funnel


def _analysis(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, list]]:
    """Per funnel: the momentum curve, time-to-convert buckets and flagged findings."""
    momentum = _analysis_rows(
        con,
        MOMENTUM_TABLE,
        "stage_order, stage_name, journeys_reached, journeys_converted, "
        "conversion_probability, lift_vs_previous_stage",
        "stage_order",
    )
    buckets = _analysis_rows(
        con,
        TIME_TO_CONVERT_TABLE,
        "bucket_order, bucket_label, lower_seconds, upper_seconds, conversions, "
        "share_of_conversions, cumulative_share",
        "bucket_order",
    )
    findings = _analysis_rows(
        con,
        DIAGNOSTICS_TABLE,
        "finding, stage_order, stage_name, next_stage_name, metric_name, metric_value, "
        "threshold, journeys, evidence",
        "stage_order NULLS FIRST, finding",
        "AND is_flagged",
    )
    result: dict[str, dict[str, list]] = defaultdict(dict)
    for funnel_id, rows in momentum.items():
        result[funnel_id]["momentum"] = [
            MomentumPoint(int(r[0]), str(r[1]), int(r[2] or 0), int(r[3] or 0), _num(r[4]),
                          _num(r[5]))
            for r in rows
        ]  # fmt: skip
    for funnel_id, rows in buckets.items():
        result[funnel_id]["time_to_convert"] = [
            TimeBucket(int(r[0]), str(r[1]), _int(r[2]), _int(r[3]), int(r[4] or 0), _num(r[5]),
                       _num(r[6]))
            for r in rows
        ]  # fmt: skip
    for funnel_id, rows in findings.items():
        result[funnel_id]["findings"] = [
            Finding(str(r[0]), _int(r[1]), r[2], r[3], r[4], _num(r[5]), _num(r[6]), _int(r[7]),
                    r[8])
            for r in rows
        ]  # fmt: skip
    return result


def _comparisons(con: duckdb.DuckDBPyConnection) -> list[SequenceComparison]:
    """The all-cohort comparison of each (micro, direct) pair, newest definitions of both."""
    rows = con.execute(
        f"""SELECT * FROM reporting.main.{COMPARISON_TABLE} WHERE cohort_grain = 'all'
        QUALIFY row_number() OVER (PARTITION BY micro_funnel_id, direct_funnel_id
            ORDER BY micro_funnel_version DESC, direct_funnel_version DESC) = 1
        ORDER BY micro_funnel_id, direct_funnel_id"""
    )
    names = [d[0] for d in rows.description]
    result = []
    for values in rows.fetchall():
        row = dict(zip(names, values, strict=True))

        def side(prefix: str, row: dict = row) -> ComparisonSide:
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
