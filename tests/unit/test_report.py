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
