"""A small reporting DuckDB with every mart the HTML report reads, numbers chosen so the tests can
compute the expected figures by hand, and hostile text in every field a user controls.

Two cohort days; micro_commitment (5 stages) fed by google_ads c1 and meta c3; direct_ask
(2 stages) fed by google_ads c2, whose name and id are HTML/JS payloads. Per day:

    micro c1 (google_ads)  reached 100, 60, 30, 15, 6   spend 100
    micro c3 (meta)        reached  50, 20, 10,  5, 2   spend  40
    direct c2 (google_ads) reached  80, 4               spend  80

Each mart also holds rows the report must leave out: an older funnel version, and the marts'
own '(all)' rollups where the report sums campaign rows itself.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from tests.mart_tables import create_aggregate_marts

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
        share_of_conversions DOUBLE, cumulative_share DOUBLE)""",
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
            "INSERT INTO agg_funnel_stages_daily SELECT * REPLACE (cohort_date + 30 AS "
            "cohort_date, 1 AS funnel_version, journeys_reached * 100 AS journeys_reached) "
            "FROM agg_funnel_stages_daily WHERE funnel_id = 'direct_ask'"
        )
    return path


def _rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def build_full(path: Path) -> Path:
    """build_core plus every analysis mart."""
    build_core(path)
    with duckdb.connect(str(path)) as con:
        for ddl in DDL:
            con.execute(ddl)
        trends, momentum, buckets, intent, stage_times = [], [], [], [], []
        for funnel_id, platform, campaign_id, _, reached, _ in CAMPAIGNS:
            stages = STAGES[funnel_id]
            for d, day in enumerate(DAYS):
                trends.append((funnel_id, VERSION, "day", day, 2024, 9, platform, campaign_id,
                               reached[0], reached[-1], reached[-1] / reached[0], 300.0, 0,
                               d == 0))  # fmt: skip
                for i, stage in enumerate(stages):
                    # Two intent segments: 'early' holds 4/5 of each stage, 'late' 1/5.
                    for segment, share in (("early", 0.8), ("late", 0.2)):
                        intent.append((funnel_id, VERSION, day, platform, campaign_id, segment,
                                       i + 1, stage, round(reached[i] * share), None, None,
                                       None, True))  # fmt: skip
            monday = DAYS[0] - timedelta(days=DAYS[0].weekday())
            trends.append((funnel_id, VERSION, "week", monday, 2024, 9, platform, campaign_id,
                           2 * reached[0], 2 * reached[-1], reached[-1] / reached[0], 300.0, 0,
                           False))  # fmt: skip
            converted = 2 * reached[-1]
            for i, stage in enumerate(stages):
                last = i + 1 == len(stages)
                probability = converted / (2 * reached[i])
                lift = None if i == 0 or last else probability / (converted / (2 * reached[i - 1]))
                momentum.append((funnel_id, VERSION, platform, campaign_id, i + 1, stage,
                                 2 * reached[i], converted, probability, lift))  # fmt: skip
            for b, (label, n) in enumerate([("< 1 min", 1), ("1-5 min", converted - 1)]):
                buckets.append((funnel_id, VERSION, platform, campaign_id, b + 1, label, 0,
                                None, n, n / converted, None))  # fmt: skip
            # Seconds to the next stage: one journey at 10 s and one at 30 s per campaign,
            # plus an excluded journey and another version, both left out.
            stage_times += [
                (funnel_id, VERSION, platform, campaign_id, 1, 10.0, False),
                (funnel_id, VERSION, platform, campaign_id, 1, 30.0, False),
                (funnel_id, VERSION, platform, campaign_id, 1, 9000.0, True),
                (funnel_id, VERSION - 1, platform, campaign_id, 1, 7000.0, False),
            ]
        # The marts' own rollups (the report sums campaign rows instead; a wrong rollup here
        # would show if it were read).
        trends.append(("micro_commitment", VERSION, "day", DAYS[0], 2024, 9, "(all)", "(all)",
                       999999, 1, 0.0, 1.0, 0, True))  # fmt: skip
        momentum += [
            ("micro_commitment", VERSION, "(all)", "(all)", i + 1, stage, 600 // 2**i, 16,
             16 / (600 // 2**i), None if i in (0, 4) else 2.0)
            for i, stage in enumerate(STAGES["micro_commitment"])
        ]  # fmt: skip
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
