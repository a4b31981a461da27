"""A small reporting DuckDB with every mart the HTML report reads, numbers chosen so the tests can
compute the expected figures by hand, and hostile text in every field a user controls.

Two cohort days; micro_commitment (5 stages) fed by google_ads c1 and meta c3; direct_ask
(2 stages) fed by google_ads c2, whose name and id are HTML/JS payloads. Per day:

    micro c1 (google_ads)  reached 100, 60, 30, 15, 6   spend 100
    micro c3 (meta)        reached  50, 20, 10,  5, 2   spend  40
    direct c2 (google_ads) reached  80, 4               spend  80

Each platform feeds one campaign per funnel, so a platform's rollup ('(all)' campaign) equals its
campaign's rows; the rollup over every campaign sums c1 and c3. The totals marts
(agg_funnel_stage_totals, agg_campaign_totals, agg_intent_segment_totals) hold the sums over both
days, written here the way dbt builds them; the report reads them and computes nothing. Each mart
also holds rows the report must leave out: an older funnel version.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import duckdb

from tests.mart_tables import create_aggregate_marts
from tests.reference.journey_groups import scope_keys

DAYS = [date(2024, 3, 1), date(2024, 3, 2)]  # Friday, Saturday: ISO week 9
VERSION = 2
EVIL = "<script>alert('x')</script>"
EVIL_ID = 'c2"><img src=x onerror=alert(1)>'
EVIL_VERDICT = 'micro <b>wins</b> & "direct" </section> loses'
STAGES = {
    "micro_commitment": ["hook", "first_action", "engagement", "reinforcement", "conversion"],
    "direct_ask": ["hook", "conversion"],
}
# (funnel, platform, campaign_id, campaign name, reached per stage per day, spend per day)
CAMPAIGNS = [
    ("micro_commitment", "google_ads", "c1", "Spring quiz", [100, 60, 30, 15, 6], 100.0),
    ("micro_commitment", "meta", "c3", "Video series", [50, 20, 10, 5, 2], 40.0),
    ("direct_ask", "google_ads", EVIL_ID, EVIL, [80, 4], 80.0),
]

DDL = [
    """CREATE TABLE agg_funnel_trends (funnel_id VARCHAR, funnel_version INTEGER,
        cohort_grain VARCHAR, cohort_start DATE, iso_year INTEGER, iso_week INTEGER,
        platform VARCHAR, campaign_id VARCHAR, journeys_started BIGINT,
        journeys_converted BIGINT, conversion_rate DOUBLE, median_seconds_to_convert DOUBLE,
        journeys_excluded BIGINT, is_final BOOLEAN)""",
    """CREATE TABLE agg_momentum_curve (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, stage_order INTEGER, stage_name VARCHAR,
        journeys_reached BIGINT, journeys_converted BIGINT, conversion_probability DOUBLE,
        lift_vs_previous_stage DOUBLE)""",
    """CREATE TABLE agg_time_to_convert (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, bucket_order INTEGER, bucket_label VARCHAR,
        lower_seconds BIGINT, upper_seconds BIGINT, conversions BIGINT,
        total_conversions BIGINT, share_of_conversions DOUBLE, cumulative_share DOUBLE)""",
    """CREATE TABLE agg_intent_segments (funnel_id VARCHAR, funnel_version INTEGER,
        cohort_date DATE, platform VARCHAR, campaign_id VARCHAR, intent_segment VARCHAR,
        stage_order INTEGER, stage_name VARCHAR, journeys_reached BIGINT,
        journeys_advanced BIGINT, step_conversion_rate DOUBLE, overall_conversion_rate DOUBLE,
        is_final BOOLEAN)""",
    """CREATE TABLE agg_funnel_diagnostics (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, finding VARCHAR, stage_order INTEGER,
        stage_name VARCHAR, next_stage_name VARCHAR, metric_name VARCHAR, metric_value DOUBLE,
        threshold DOUBLE, journeys BIGINT, journeys_lost BIGINT, is_flagged BOOLEAN,
        evidence VARCHAR, is_final BOOLEAN)""",
    """CREATE TABLE agg_funnel_recommendations (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, scope VARCHAR, priority INTEGER,
        recommendation VARCHAR, finding VARCHAR, stage_order INTEGER, stage_name VARCHAR,
        next_stage_name VARCHAR, action VARCHAR, journeys_at_stake BIGINT, entries BIGINT,
        share_at_stake DOUBLE, spend_at_stake DOUBLE, evidence VARCHAR, is_final BOOLEAN)""",
    """CREATE TABLE agg_sequence_comparison (micro_funnel_id VARCHAR,
        micro_funnel_version INTEGER, direct_funnel_id VARCHAR, direct_funnel_version INTEGER,
        cohort_grain VARCHAR, cohort_date DATE, micro_entries BIGINT, micro_conversions BIGINT,
        micro_conversion_rate DOUBLE, micro_ci_low DOUBLE, micro_ci_high DOUBLE,
        micro_spend DOUBLE, micro_cost_per_conversion DOUBLE, direct_entries BIGINT,
        direct_conversions BIGINT, direct_conversion_rate DOUBLE, direct_ci_low DOUBLE,
        direct_ci_high DOUBLE, direct_spend DOUBLE, direct_cost_per_conversion DOUBLE,
        absolute_lift DOUBLE, relative_lift DOUBLE, z_score DOUBLE, p_value DOUBLE,
        is_significant BOOLEAN, verdict VARCHAR, is_final BOOLEAN)""",
    """CREATE TABLE fct_funnel_journey_stages (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, stage_order INTEGER,
        seconds_to_next_stage DOUBLE, is_excluded BOOLEAN)""",
]
MOMENTUM_DDL_INDEX = 1
ALL = "(all)"

TOTALS_DDL = [
    """CREATE TABLE agg_funnel_stage_totals (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, stage_order INTEGER, stage_name VARCHAR,
        first_cohort_date DATE, last_cohort_date DATE, journeys_reached BIGINT,
        journeys_advanced BIGINT, step_conversion_rate DOUBLE, overall_conversion_rate DOUBLE,
        dropoff_count BIGINT, median_seconds_to_next_stage DOUBLE,
        p90_seconds_to_next_stage DOUBLE, journeys_excluded BIGINT, entries BIGINT,
        conversions BIGINT, conversion_rate DOUBLE, spend DOUBLE, cost_per_conversion DOUBLE,
        provisional_cohort_days BIGINT, is_final BOOLEAN)""",
    """CREATE TABLE agg_campaign_totals (platform VARCHAR, campaign_id VARCHAR,
        campaign_name VARCHAR, currency VARCHAR, first_report_date DATE,
        last_report_date DATE, report_days BIGINT, impressions BIGINT, clicks BIGINT,
        spend DOUBLE, ctr DOUBLE, cpc DOUBLE, platform_conversions DOUBLE,
        platform_conversion_value DOUBLE, first_party_conversions BIGINT, is_final BOOLEAN)""",
]
INTENT_TOTALS_DDL = """CREATE TABLE agg_intent_segment_totals (funnel_id VARCHAR,
    funnel_version INTEGER, platform VARCHAR, campaign_id VARCHAR, intent_segment VARCHAR,
    stage_order INTEGER, stage_name VARCHAR, journeys_reached BIGINT, journeys_advanced BIGINT,
    step_conversion_rate DOUBLE, overall_conversion_rate DOUBLE, is_final BOOLEAN)"""
# Seconds to the next stage: one journey at 10 s and one at 30 s at stage 1 per campaign of the
# current version (fct_funnel_journey_stages in build_full; their medians in the stage totals).
STAGE_SECONDS = (10.0, 30.0)
# The older direct_ask definition: its rows sit 30 days later with 100x the journeys.
OLD_DAY_SHIFT, OLD_FACTOR = 30, 100


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _campaign_days() -> list[tuple[Any, ...]]:
    """(funnel, version, day, platform, campaign, reached per stage, spend, final) per day."""
    days = [
        (funnel_id, VERSION, day, platform, campaign_id, reached, spend, d == 0)
        for d, day in enumerate(DAYS)
        for funnel_id, platform, campaign_id, _, reached, spend in CAMPAIGNS
    ]
    days += [
        (funnel_id, 1, day + timedelta(days=OLD_DAY_SHIFT), platform, campaign_id,
         [n * OLD_FACTOR for n in reached], spend, final)
        for funnel_id, _, day, platform, campaign_id, reached, spend, final in days
        if funnel_id == "direct_ask"
    ]  # fmt: skip
    return days


def _stage_totals() -> list[tuple[Any, ...]]:
    """agg_funnel_stage_totals: each campaign day summed into its three scopes."""
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in _campaign_days():
        funnel_id, version, _, platform, campaign_id = row[:5]
        for scope in scope_keys(platform, campaign_id):
            groups[(funnel_id, version, *scope)].append(row)
    rows = []
    for (funnel_id, version, platform, campaign_id), days in groups.items():
        stages = STAGES[funnel_id]
        reached = [sum(day[5][i] for day in days) for i in range(len(stages))]
        spend = sum(day[6] for day in days)
        cohort_days = [day[2] for day in days]
        for i, stage in enumerate(stages):
            last = i + 1 == len(stages)
            nxt = None if last else reached[i + 1]
            rows.append((
                funnel_id, version, platform, campaign_id, i + 1, stage, min(cohort_days),
                max(cohort_days), reached[i], nxt, None if last else _rate(nxt or 0, reached[i]),
                reached[i] / reached[0], None if last else reached[i] - (nxt or 0),
                median(STAGE_SECONDS) if i == 0 and version == VERSION else None, None, 0,
                reached[0], reached[-1], reached[-1] / reached[0], spend,
                _rate(spend, reached[-1]), len({day[2] for day in days if not day[7]}),
                all(day[7] for day in days),
            ))  # fmt: skip
    return rows


def _campaign_totals() -> list[tuple[Any, ...]]:
    """agg_campaign_totals: the two days of each campaign's performance rows."""
    return [
        (platform, campaign_id, name, "EUR", DAYS[0], DAYS[-1], len(DAYS), 1000 * len(DAYS),
         50 * len(DAYS), spend * len(DAYS), 0.05, 2 * spend / 100, 6.5 * len(DAYS), None,
         (reached[-1] if funnel_id == "micro_commitment" else 0) * len(DAYS), False)
        for funnel_id, platform, campaign_id, name, reached, spend in CAMPAIGNS
    ]  # fmt: skip


def build_core(path: Path) -> Path:
    """The two marts every reporting file has: stages per day and campaign performance."""
    with duckdb.connect(str(path)) as con:
        create_aggregate_marts(con)
        for d, day in enumerate(DAYS):
            for funnel_id, platform, campaign_id, name, reached, spend in CAMPAIGNS:
                stages = STAGES[funnel_id]
                for i, stage in enumerate(stages):
                    last = i + 1 == len(stages)
                    nxt = None if last else reached[i + 1]
                    con.execute(
                        "INSERT INTO agg_funnel_stages_daily VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                        [funnel_id, day, platform, campaign_id, i + 1, stage, reached[i],
                         reached[i], nxt, None if last else nxt / reached[i],
                         reached[i] / reached[0], None if last else reached[i] - nxt,
                         None if last else 60.0, None, 10.0, spend, spend / reached[i],
                         d == 0, VERSION],
                    )  # fmt: skip
                con.execute(
                    "INSERT INTO agg_campaign_performance VALUES "
                    "(?, ?, ?, ?, 1000, 50, ?, 'EUR', 0.05, 2.0, ?, ?, 20.0, 6.5, ?)",
                    [day, platform, campaign_id, name, spend,
                     reached[0] if funnel_id == "micro_commitment" else 0,
                     reached[-1] if funnel_id == "micro_commitment" else 0,
                     reached[-1] if funnel_id == "micro_commitment" else 0],
                )  # fmt: skip
        # An older definition of direct_ask left rows on a later day: never added to v2's.
        con.execute(
            f"INSERT INTO agg_funnel_stages_daily SELECT * REPLACE (cohort_date + "
            f"{OLD_DAY_SHIFT} AS cohort_date, 1 AS funnel_version, journeys_reached * "
            f"{OLD_FACTOR} AS journeys_reached) "
            "FROM agg_funnel_stages_daily WHERE funnel_id = 'direct_ask'"
        )
        for ddl in TOTALS_DDL:
            con.execute(ddl)
        _rows(con, "agg_funnel_stage_totals", _stage_totals())
        _rows(con, "agg_campaign_totals", _campaign_totals())
    return path


def _rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _trend_rows() -> list[tuple[Any, ...]]:
    """agg_funnel_trends: each campaign's days and ISO week, summed into its three scopes."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 1])
    monday = DAYS[0] - timedelta(days=DAYS[0].weekday())
    for funnel_id, platform, campaign_id, _, reached, _ in CAMPAIGNS:
        periods = [("day", day, 1, d == 0) for d, day in enumerate(DAYS)]
        for grain, start, days, final in [*periods, ("week", monday, len(DAYS), False)]:
            for scope in scope_keys(platform, campaign_id):
                group = groups[(funnel_id, grain, start, *scope)]
                group[0] += days * reached[0]
                group[1] += days * reached[-1]
                group[2] &= final
    return [
        (funnel_id, VERSION, grain, start, 2024, 9, platform, campaign_id, started, converted,
         converted / started, 300.0, 0, bool(final))
        for (funnel_id, grain, start, platform, campaign_id), (started, converted, final)
        in groups.items()
    ]  # fmt: skip


def _bucket_rows() -> list[tuple[Any, ...]]:
    """agg_time_to_convert: per campaign one conversion under a minute, the rest 1-5 min."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for funnel_id, platform, campaign_id, _, reached, _ in CAMPAIGNS:
        for scope in scope_keys(platform, campaign_id):
            group = groups[(funnel_id, *scope)]
            group[0] += 1
            group[1] += 2 * reached[-1] - 1
    rows = []
    for (funnel_id, platform, campaign_id), counts in groups.items():
        total, running = sum(counts), 0
        for b, (label, n) in enumerate(zip(("< 1 min", "1-5 min"), counts, strict=True)):
            running += n
            rows.append((funnel_id, VERSION, platform, campaign_id, b + 1, label, 0, None, n,
                         total, n / total, running / total))  # fmt: skip
    return rows


def _intent_totals(daily: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """agg_intent_segment_totals: the daily intent rows summed into their three scopes."""
    groups: dict[tuple[Any, ...], int] = defaultdict(int)
    names = {}
    for funnel_id, version, _, platform, campaign_id, segment, order, name, n, *_ in daily:
        names[(funnel_id, order)] = name
        for scope in scope_keys(platform, campaign_id):
            groups[(funnel_id, version, *scope, segment, order)] += n
    return [
        (funnel_id, version, platform, campaign_id, segment, order, names[(funnel_id, order)],
         n, None, None, n / groups[(funnel_id, version, platform, campaign_id, segment, 1)],
         True)
        for (funnel_id, version, platform, campaign_id, segment, order), n in groups.items()
    ]  # fmt: skip


def build_full(path: Path) -> Path:
    """build_core plus every analysis mart."""
    build_core(path)
    with duckdb.connect(str(path)) as con:
        for ddl in DDL:
            con.execute(ddl)
        trends, momentum, buckets, intent, stage_times = [], [], [], [], []
        for funnel_id, platform, campaign_id, _, reached, _ in CAMPAIGNS:
            stages = STAGES[funnel_id]
            for day in DAYS:
                for i, stage in enumerate(stages):
                    # Two intent segments: 'early' holds 4/5 of each stage, 'late' 1/5.
                    for segment, share in (("early", 0.8), ("late", 0.2)):
                        intent.append((funnel_id, VERSION, day, platform, campaign_id, segment,
                                       i + 1, stage, round(reached[i] * share), None, None,
                                       None, True))  # fmt: skip
            converted = 2 * reached[-1]
            # A platform's rollup: its one campaign's figures.
            for scope_campaign in (campaign_id, ALL):
                for i, stage in enumerate(stages):
                    last = i + 1 == len(stages)
                    probability = converted / (2 * reached[i])
                    lift = (
                        None if i == 0 or last else probability / (converted / (2 * reached[i - 1]))
                    )
                    momentum.append((funnel_id, VERSION, platform, scope_campaign, i + 1, stage,
                                     2 * reached[i], converted, probability, lift))  # fmt: skip
            # Seconds to the next stage per campaign, plus an excluded journey and another
            # version, both left out (the stage totals' medians are over these).
            stage_times += [
                *((funnel_id, VERSION, platform, campaign_id, 1, s, False) for s in STAGE_SECONDS),
                (funnel_id, VERSION, platform, campaign_id, 1, 9000.0, True),
                (funnel_id, VERSION - 1, platform, campaign_id, 1, 7000.0, False),
            ]
        trends = _trend_rows()
        buckets = _bucket_rows()
        # The rollup over every campaign of micro_commitment has numbers of its own: the report
        # shows a mart's rows as published, whatever they say.
        momentum += [
            ("micro_commitment", VERSION, ALL, ALL, i + 1, stage, 600 // 2**i, 16,
             16 / (600 // 2**i), None if i in (0, 4) else 2.0)
            for i, stage in enumerate(STAGES["micro_commitment"])
        ] + [
            ("direct_ask", VERSION, ALL, ALL, i + 1, stage, 2 * n, 8, 8 / (2 * n), None)
            for i, (stage, n) in enumerate(zip(STAGES["direct_ask"], CAMPAIGNS[2][4], strict=True))
        ]  # fmt: skip
        con.execute(INTENT_TOTALS_DDL)
        _rows(con, "agg_intent_segment_totals", _intent_totals(intent))
        _rows(con, "agg_funnel_trends", trends)
        _rows(con, "agg_momentum_curve", momentum)
        _rows(con, "agg_time_to_convert", buckets)
        _rows(con, "agg_intent_segments", intent)
        _rows(con, "fct_funnel_journey_stages", stage_times)
        _rows(con, "agg_funnel_diagnostics", [
            ("micro_commitment", VERSION, "(all)", "(all)", "largest_dropoff", 1, "hook",
             "first_action", "dropoff_count", 140.0, None, 300, 140, True,
             "140 journeys (46.7% of 300) that reached hook stopped there, before first_action",
             False),
            ("micro_commitment", VERSION, "(all)", "(all)", "delay_without_filter", None, None,
             None, "median_seconds_to_next_stage", None, 3600.0, 300, None, False,
             "no slow step filters", False),
            ("micro_commitment", VERSION - 1, "(all)", "(all)", "slowest_step", 2,
             "first_action", "engagement", "median_seconds_to_next_stage", 400.0, None, 100,
             10, True, "old definition finding", True),
            ("direct_ask", VERSION, "google_ads", EVIL_ID, "stalled_journeys", 1, "hook",
             "conversion", "stalled_share", 0.6, 0.5, 160, 96, True,
             f"60.0% of 160 journeys stalled, most from campaign {EVIL}", False),
        ])  # fmt: skip
        _rows(con, "agg_funnel_recommendations", [
            ("direct_ask", VERSION, "(all)", "(all)", "funnel", 1, "replace_direct_ask",
             "asking_too_much_too_soon", None, None, None,
             "Replace the big ask with a micro-commitment sequence", 152, 160, 0.95, 152.0,
             "direct_ask converts 5.0% of 160 entries vs 5.3% of 300", False),
            ("micro_commitment", VERSION, "(all)", "(all)", "funnel", 2, "ease_step",
             "largest_dropoff", 1, "hook", "first_action",
             "Make the step after hook easier", 140, 300, 140 / 300, 130.67,
             "140 journeys (46.7% of 300) that reached hook stopped there", False),
            ("direct_ask", VERSION, "google_ads", EVIL_ID, "campaign", 1, "follow_up_stalled",
             "stalled_journeys", 1, "hook", "conversion", f"Follow up {EVIL}", 96, 160, 0.6,
             96.0, f"60.0% of 160 journeys stalled, most from campaign {EVIL}", False),
            ("micro_commitment", VERSION, "google_ads", "c1", "campaign", 2, "ease_step",
             "largest_dropoff", 1, "hook", "first_action", "Make the step after hook easier",
             80, 200, 0.4, 80.0, "80 journeys (40.0% of 200) that reached hook stopped there",
             False),
            ("micro_commitment", VERSION, "meta", "c3", "campaign", 3, "ease_step",
             "largest_dropoff", 1, "hook", "first_action", "Make the step after hook easier",
             60, 100, 0.6, 48.0, "60 journeys (60.0% of 100) that reached hook stopped there",
             False),
            ("micro_commitment", VERSION - 1, "(all)", "(all)", "funnel", 1, "ease_step",
             "largest_dropoff", 1, "hook", "first_action", "old definition action", 1, 1, 1.0,
             1.0, "old definition evidence", True),
        ])  # fmt: skip
        comparison = [
            ("micro_commitment", VERSION, "direct_ask", VERSION, "all", None, 2000, 146, 0.073,
             0.0625, 0.0851, 4034.8, 27.6356, 1800, 77, 0.04278, 0.03437, 0.05314, 3139.0,
             40.7662, 0.03022, 0.69425, 4.13, 0.0123, True, EVIL_VERDICT, False),
            ("micro_commitment", VERSION, "direct_ask", VERSION, "day", DAYS[0], 1000, 70, 0.07,
             0.05, 0.09, 2000.0, 28.57, 900, 40, 0.0444, 0.03, 0.06, 1500.0, 37.5, 0.0256,
             0.576, 2.4, 0.0166, True, "day verdict", False),
            ("micro_commitment", VERSION - 1, "direct_ask", VERSION - 1, "all", None, 10, 1,
             0.1, 0.01, 0.4, 1.0, 1.0, 10, 1, 0.1, 0.01, 0.4, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0,
             False, "old definition verdict", True),
        ]  # fmt: skip
        _rows(con, "agg_sequence_comparison", comparison)
    return path
