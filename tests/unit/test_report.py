"""The HTML funnel report and the plain-text stage table."""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.report import format_stage_table, load_report_data, write_funnel_report
from tests.mart_tables import create_aggregate_marts

STAGES = {
    "micro_commitment": ["hook", "first_action", "engagement", "reinforcement", "conversion"],
    "direct_ask": ["hook", "conversion"],
}
DAYS = [date(2024, 3, 1), date(2024, 3, 2)]
VERSION = 1
EVIL = "<script>alert('x')</script>"


def build_reporting(path: Path) -> Path:
    """A reporting DuckDB file with the two marts the report reads."""
    con = duckdb.connect(str(path))
    create_aggregate_marts(con)
    campaigns = [("google_ads", "c1", "Spring quiz"), ("google_ads", "c2", EVIL)]
    for d, day in enumerate(DAYS):
        for c, (platform, campaign_id, name) in enumerate(campaigns):
            spend = 100.0 + 10 * c
            for funnel_id, stages in STAGES.items():
                reached = [(100 + 20 * c + 10 * d) // (2**i) for i in range(len(stages))]
                for i, stage in enumerate(stages):
                    nxt = reached[i + 1] if i + 1 < len(stages) else 0
                    last = i + 1 == len(stages)
                    con.execute(
                        "INSERT INTO agg_funnel_stages_daily VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                        [funnel_id, day, platform, campaign_id, i + 1, stage, reached[i],
                         reached[i], nxt, None if last else nxt / reached[i],
                         reached[i] / reached[0], reached[i] - nxt,
                         None if last else 60.0 * (i + 1) + d, None, 10.0, spend,
                         spend / reached[i], d == 0, VERSION],
                    )  # fmt: skip
            con.execute(
                "INSERT INTO agg_campaign_performance VALUES "
                "(?, ?, ?, ?, 1000, 50, ?, 'EUR', 0.05, 2.0, 40, 5, 20.0, 6.0, 5)",
                [day, platform, campaign_id, name, spend],
            )
    con.close()
    return path


EVIL_VERDICT = 'micro <b>wins</b> & "direct" </section> loses'
SEQUENCE_COMPARISON_DDL = """
    CREATE TABLE agg_sequence_comparison (micro_funnel_id VARCHAR, micro_funnel_version INTEGER,
        direct_funnel_id VARCHAR, direct_funnel_version INTEGER, cohort_grain VARCHAR,
        cohort_date DATE, micro_entries BIGINT, micro_conversions BIGINT,
        micro_conversion_rate DOUBLE, micro_ci_low DOUBLE, micro_ci_high DOUBLE,
        micro_spend DOUBLE, micro_cost_per_conversion DOUBLE, direct_entries BIGINT,
        direct_conversions BIGINT, direct_conversion_rate DOUBLE, direct_ci_low DOUBLE,
        direct_ci_high DOUBLE, direct_spend DOUBLE, direct_cost_per_conversion DOUBLE,
        absolute_lift DOUBLE, relative_lift DOUBLE, z_score DOUBLE, p_value DOUBLE,
        is_significant BOOLEAN, verdict VARCHAR, is_final BOOLEAN)"""
MOMENTUM_DDL = """
    CREATE TABLE agg_momentum_curve (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, stage_order INTEGER, stage_name VARCHAR,
        journeys_reached BIGINT, journeys_converted BIGINT, conversion_probability DOUBLE,
        lift_vs_previous_stage DOUBLE)"""
TIME_TO_CONVERT_DDL = """
    CREATE TABLE agg_time_to_convert (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, bucket_order INTEGER, bucket_label VARCHAR,
        lower_seconds BIGINT, upper_seconds BIGINT, conversions BIGINT,
        share_of_conversions DOUBLE, cumulative_share DOUBLE)"""
DIAGNOSTICS_DDL = """
    CREATE TABLE agg_funnel_diagnostics (funnel_id VARCHAR, funnel_version INTEGER,
        platform VARCHAR, campaign_id VARCHAR, finding VARCHAR, stage_order INTEGER,
        stage_name VARCHAR, next_stage_name VARCHAR, metric_name VARCHAR, metric_value DOUBLE,
        threshold DOUBLE, journeys BIGINT, is_flagged BOOLEAN, evidence VARCHAR,
        is_final BOOLEAN)"""
# micro_commitment over every campaign: reached per stage, all 30 conversions reach every stage.
MICRO_REACHED = [600, 300, 150, 75, 30]
BUCKETS = [
    ("< 1 min", 0, 60, 3), ("1-5 min", 60, 300, 12), ("5-15 min", 300, 900, 9),
    ("15-60 min", 900, 3600, 6), ("1-6 h", 3600, 21600, 0), ("6-24 h", 21600, 86400, 0),
    ("1-3 d", 86400, 259200, 0), ("3-7 d", 259200, 604800, 0), (">= 7 d", 604800, None, 0),
]  # fmt: skip


def add_analysis_marts(path: Path) -> Path:
    """The four analysis marts, with rows the report must leave out: a day-grain comparison,
    an older funnel version, per-campaign rows and an unflagged finding."""
    con = duckdb.connect(str(path))
    for ddl in (SEQUENCE_COMPARISON_DDL, MOMENTUM_DDL, TIME_TO_CONVERT_DDL, DIAGNOSTICS_DDL):
        con.execute(ddl)
    comparison = (
        "INSERT INTO agg_sequence_comparison VALUES ('micro_commitment', ?, 'direct_ask', ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false)"
    )
    con.execute(
        comparison,
        [VERSION, VERSION, "all", None, 2000, 146, 0.073, 0.0625, 0.0851, 4034.8, 27.6356,
         1800, 77, 0.04278, 0.03437, 0.05314, 3139.0, 40.7662, 0.03022, 0.69425, 4.13,
         0.0123, True, EVIL_VERDICT],
    )  # fmt: skip
    con.execute(
        comparison,
        [VERSION, VERSION, "day", DAYS[0], 1000, 70, 0.07, 0.05, 0.09, 2000.0, 28.57,
         900, 40, 0.0444, 0.03, 0.06, 1500.0, 37.5, 0.0256, 0.576, 2.4, 0.0166, True,
         "day verdict"],
    )  # fmt: skip
    con.execute(
        comparison,
        [VERSION - 1, VERSION - 1, "all", None, 10, 1, 0.1, 0.01, 0.4, 1.0, 1.0, 10, 1, 0.1,
         0.01, 0.4, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, False, "old definition verdict"],
    )  # fmt: skip
    for version, campaign, scale in [(VERSION, "(all)", 1), (VERSION, "c1", 3),
                                     (VERSION - 1, "(all)", 7)]:  # fmt: skip
        platform = "(all)" if campaign == "(all)" else "google_ads"
        converted = 30 // scale
        for i, (stage, reached) in enumerate(zip(STAGES["micro_commitment"], MICRO_REACHED,
                                                 strict=True)):  # fmt: skip
            prob = converted / reached
            lift = None if i == 0 else prob / (converted / MICRO_REACHED[i - 1])
            con.execute(
                "INSERT INTO agg_momentum_curve VALUES ('micro_commitment', ?, ?, ?, ?, ?, ?, ?, "
                "?, ?)",
                [version, platform, campaign, i + 1, stage, reached, converted, prob, lift],
            )
        running = 0
        for b, (label, low, high, conversions) in enumerate(BUCKETS):
            running += conversions * scale
            con.execute(
                "INSERT INTO agg_time_to_convert VALUES ('micro_commitment', ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?)",
                [version, platform, campaign, b + 1, label, low, high, conversions * scale,
                 conversions / 30, running / (30 * scale)],
            )  # fmt: skip
    diagnostics = (
        "INSERT INTO agg_funnel_diagnostics VALUES ('micro_commitment', ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, false)"
    )
    rows = [
        (VERSION, "(all)", "largest_dropoff", 4, "reinforcement", "conversion",
         "step_conversion_rate", 0.4, None, 75, True,
         "60.0% of 75 journeys that reached reinforcement stopped there, before conversion"),
        (VERSION, "(all)", "stalled_journeys", 1, "hook", "first_action", "stalled_share", 0.55,
         0.5, 600, True, f"55.0% of 600 journeys stalled, most from campaign {EVIL}"),
        (VERSION, "(all)", "delay_without_filter", None, None, None,
         "median_seconds_to_next_stage", None, 3600.0, 600, False, "no slow step filters"),
        (VERSION, "c1", "slowest_step", 2, "first_action", "engagement",
         "median_seconds_to_next_stage", 400.0, None, 100, True, "campaign-only finding"),
        (VERSION - 1, "(all)", "slowest_step", 2, "first_action", "engagement",
         "median_seconds_to_next_stage", 400.0, None, 100, True, "old definition finding"),
    ]  # fmt: skip
    for version, campaign, *rest in rows:
        platform = "(all)" if campaign == "(all)" else "google_ads"
        con.execute(diagnostics, [version, platform, campaign, *rest])
    con.close()
    return path


class _Collector(HTMLParser):
    """Checks tags nest properly and collects the visible text and script tags."""

    VOID = {"meta", "br", "link", "img", "input", "hr", "rect", "circle", "line", "polyline"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture
def report(tmp_path: Path) -> tuple[Path, str]:
    db = build_reporting(tmp_path / "reporting.duckdb")
    out = write_funnel_report(db, tmp_path / "out" / "report.html")
    return out, out.read_text(encoding="utf-8")


def test_report_names_every_funnel_and_stage(report: tuple[Path, str]) -> None:
    _, page = report
    for funnel_id, stages in STAGES.items():
        assert f"Funnel {funnel_id}" in page
        for stage in stages:
            assert stage in page


def test_report_escapes_a_campaign_named_script(report: tuple[Path, str]) -> None:
    _, page = report
    assert EVIL not in page
    assert "&lt;script&gt;" in page
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags
    assert EVIL in "".join(parser.text)  # shown to the reader as text


def test_report_parses_as_well_formed_html(report: tuple[Path, str]) -> None:
    _, page = report
    parser = _Collector()
    parser.feed(page)
    parser.close()
    assert parser.errors == []
    assert parser.stack == []
    assert page.startswith("<!DOCTYPE html>")


def test_report_is_self_contained(report: tuple[Path, str]) -> None:
    _, page = report
    parser = _Collector()
    parser.feed(page)
    assert not {"script", "link", "img", "iframe"} & set(parser.tags)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert page.count("<svg") == 2 * len(STAGES)  # a funnel chart and a trend per funnel
    assert "<svg" in page


def test_report_shows_range_facts_and_summed_conversion(report: tuple[Path, str]) -> None:
    _, page = report
    assert "2024-03-01 to 2024-03-02" in page
    assert "cohort days not final yet" in page
    # direct_ask hook reach summed over both days and campaigns: 100 + 120 + 110 + 130
    assert "460 journeys" in page


def test_report_is_written_atomically_without_temp_files(report: tuple[Path, str]) -> None:
    out, _ = report
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_report_data_recomputes_rates_from_counts(tmp_path: Path) -> None:
    data = load_report_data(build_reporting(tmp_path / "r.duckdb"))
    funnel = next(f for f in data.funnels if f.funnel_id == "direct_ask")
    hook, conversion = funnel.stages
    assert hook.journeys_reached == 460
    assert conversion.journeys_reached == 50 + 60 + 55 + 65
    assert hook.step_conversion_rate == pytest.approx(230 / 460)
    assert conversion.overall_conversion_rate == pytest.approx(230 / 460)
    assert [p.is_final for p in funnel.trend] == [True, False]
    c1 = next(c for c in funnel.campaigns if c.campaign_id == "c1")
    assert c1.spend == pytest.approx(200.0)  # spend counted once per day, not per stage
    assert c1.campaign_name == "Spring quiz"


def test_report_without_published_marts_says_so(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    page = write_funnel_report(db, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "not published yet" in page


def test_missing_reporting_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.duckdb"):
        write_funnel_report(tmp_path / "nope.duckdb", tmp_path / "r.html")


def test_stage_table_is_aligned_plain_text() -> None:
    rows = [
        {"stage_name": "hook", "journeys_reached": 1200, "step_conversion_rate": 0.5,
         "overall_conversion_rate": 1.0, "dropoff_count": 600,
         "median_seconds_to_next_stage": 65},
        {"stage_name": "conversion", "journeys_reached": 600, "step_conversion_rate": None,
         "overall_conversion_rate": 0.5, "dropoff_count": 600,
         "median_seconds_to_next_stage": None},
    ]  # fmt: skip
    text = format_stage_table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["stage", "journeys", "reached"]
    assert set(lines[1]) <= {"-", " "}
    assert "1,200" in lines[2] and "50.0%" in lines[2] and "1m 05s" in lines[2]
    assert lines[3].startswith("conversion") and lines[3].rstrip().endswith("-")
    # Right-aligned numbers end in the same column as their header.
    assert lines[2].index("1,200") + len("1,200") == lines[0].index("reached") + len("reached")


def test_stage_table_accepts_report_summaries(tmp_path: Path) -> None:
    data = load_report_data(build_reporting(tmp_path / "r.duckdb"))
    text = format_stage_table(data.funnels[0].stages)
    assert all(stage in text for stage in STAGES[data.funnels[0].funnel_id])


def test_report_shows_only_the_newest_funnel_version(tmp_path: Path) -> None:
    path = build_reporting(tmp_path / "r.duckdb")
    with duckdb.connect(str(path)) as con:
        # An older definition of direct_ask left rows for another day: never added to v1's.
        con.execute(
            "INSERT INTO agg_funnel_stages_daily SELECT * REPLACE "
            "(cohort_date + 30 AS cohort_date, 0 AS funnel_version, journeys_reached * 100 "
            "AS journeys_reached) FROM agg_funnel_stages_daily WHERE funnel_id = 'direct_ask'"
        )
    data = load_report_data(path)
    funnel = next(f for f in data.funnels if f.funnel_id == "direct_ask")
    assert funnel.stages[0].journeys_reached == 460
    assert [p.day for p in funnel.trend] == DAYS


@pytest.fixture
def analysis_report(tmp_path: Path) -> str:
    db = add_analysis_marts(build_reporting(tmp_path / "reporting.duckdb"))
    return write_funnel_report(db, tmp_path / "report.html").read_text(encoding="utf-8")


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


def test_report_shows_the_sequence_comparison(analysis_report: str) -> None:
    section = _section(analysis_report, "sequence-comparison")
    assert "Micro-commitment sequence vs direct ask" in section
    for text in [
        "2,000", "146", "7.3%", "6.2% to 8.5%", "27.64 EUR", "4,034.80 EUR",  # micro side
        "1,800", "77", "4.3%", "3.4% to 5.3%", "40.77 EUR", "3,139.00 EUR",  # direct side
        "relative lift +69.4%", "absolute lift +3.0 pp", "p-value 0.012",
        "significant (p &lt; 0.05)", "not final yet",
    ]:  # fmt: skip
        assert text in section, text
    # Only the all-cohort row of the newest definitions.
    assert "day verdict" not in analysis_report
    assert "old definition verdict" not in analysis_report


def test_report_escapes_the_verdict(analysis_report: str) -> None:
    assert EVIL_VERDICT not in analysis_report
    assert "micro &lt;b&gt;wins&lt;/b&gt; &amp; &quot;direct&quot; &lt;/section&gt;" in (
        analysis_report
    )
    parser = _Collector()
    parser.feed(analysis_report)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert "b" not in parser.tags and "script" not in parser.tags
    text = "".join(parser.text)
    assert EVIL_VERDICT in text and EVIL in text  # readable as text


def test_report_shows_the_momentum_curve_and_time_to_convert(analysis_report: str) -> None:
    micro = _section(analysis_report, "funnel-micro_commitment")
    assert "Momentum: P(conversion | stage reached)" in micro
    # P(conversion | reached) = 30 / reached: 5.0%, 10.0%, 20.0%, 40.0%, 100.0%; lift 2.00x, 2.50x.
    for text in ["5.0%", "10.0%", "20.0%", "40.0%", "100.0%", "2.00x", "2.50x"]:
        assert text in micro, text
    assert '<svg class="momentum"' in micro and '<svg class="time-to-convert"' in micro
    momentum_svg = micro[micro.index('<svg class="momentum"') :]
    assert momentum_svg[: momentum_svg.index("</svg>")].count("<circle") == len(MICRO_REACHED)
    # Time to convert: 3, 12, 9, 6 of 30 conversions; half within 1-5 min (50%).
    for text in ["40.0%", "30.0%", "20.0%", "15-60", "&gt;= 7", "30 conversions",
                 "half of them within the 1-5 min bucket"]:  # fmt: skip
        assert text in micro, text
    direct = _section(analysis_report, "funnel-direct_ask")
    assert "Momentum" not in direct and "time-to-convert" not in direct  # no rows: no block


def test_report_lists_flagged_findings_only(analysis_report: str) -> None:
    micro = _section(analysis_report, "funnel-micro_commitment")
    assert "What stands out" in micro
    assert "Largest drop-off" in micro and "Stalled journeys" in micro
    assert "60.0% of 75 journeys that reached reinforcement stopped there" in micro
    assert "most from campaign &lt;script&gt;" in micro
    # Findings come before the funnel chart: the answers first.
    assert micro.index("What stands out") < micro.index('<svg class="funnel"')
    for hidden in ["no slow step filters", "campaign-only finding", "old definition finding"]:
        assert hidden not in analysis_report


def test_analysis_data_keeps_the_newest_version_and_the_all_rollup(tmp_path: Path) -> None:
    data = load_report_data(add_analysis_marts(build_reporting(tmp_path / "r.duckdb")))
    (comparison,) = data.comparisons
    assert comparison.micro.funnel_version == VERSION
    assert comparison.micro.entries == 2000 and comparison.direct.conversions == 77
    assert comparison.p_value == pytest.approx(0.0123)
    assert data.currency == "EUR"
    micro = next(f for f in data.funnels if f.funnel_id == "micro_commitment")
    assert [p.journeys_reached for p in micro.momentum] == MICRO_REACHED
    assert [p.conversion_probability for p in micro.momentum] == pytest.approx(
        [30 / r for r in MICRO_REACHED]
    )
    assert micro.momentum[0].lift_vs_previous_stage is None
    assert [b.conversions for b in micro.time_to_convert] == [b[3] for b in BUCKETS]
    assert micro.time_to_convert[-1].upper_seconds is None
    assert [f.finding for f in micro.findings] == ["stalled_journeys", "largest_dropoff"]


def test_report_with_analysis_marts_is_self_contained(analysis_report: str) -> None:
    parser = _Collector()
    parser.feed(analysis_report)
    assert not {"script", "link", "img", "iframe"} & set(parser.tags)
    # Funnel chart + trend per funnel, the comparison chart, micro's momentum and time charts.
    assert analysis_report.count("<svg") == 2 * len(STAGES) + 1 + 2


def test_report_without_analysis_marts_skips_their_sections(report: tuple[Path, str]) -> None:
    _, page = report
    assert "sequence-comparison" not in page
    assert "Momentum" not in page and "What stands out" not in page
    assert "Time from entry" not in page


def test_report_median_is_exact_over_the_journeys_when_published(tmp_path: Path) -> None:
    path = build_reporting(tmp_path / "r.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE fct_funnel_journey_stages (funnel_id VARCHAR, funnel_version INTEGER, "
            "stage_order INTEGER, seconds_to_next_stage DOUBLE, is_excluded BOOLEAN)"
        )
        con.execute(
            "INSERT INTO fct_funnel_journey_stages VALUES ('direct_ask', 1, 1, 10, false), "
            "('direct_ask', 1, 1, 20, false), ('direct_ask', 1, 1, 9000, true), "
            "('direct_ask', 0, 1, 7000, false), ('direct_ask', 1, 2, NULL, false)"
        )
    funnel = next(f for f in load_report_data(path).funnels if f.funnel_id == "direct_ask")
    # Excluded journeys and other versions are left out: the median of 10 and 20.
    assert funnel.stages[0].median_seconds_to_next_stage == pytest.approx(15.0)
