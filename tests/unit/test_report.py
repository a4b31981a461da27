"""The HTML funnel report and the plain-text stage table, on a hand-built reporting file
(tests/report_fixtures.py: the expected figures are computed by hand in its docstring). The
browser view of a real run is tests/integration/test_report_browser.py."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.funnel_report import format_stage_table, load_report_data, write_funnel_report
from pipelines.lib.funnel_report.funnel_section import funnel_section
from pipelines.lib.funnel_report.model import ALL, EVERY, CampaignFunnel
from pipelines.lib.funnel_report.page_assets import SCRIPT
from pipelines.lib.funnel_report.read_marts import limit_campaign_views
from tests.report_fixtures import (
    DAYS,
    EVIL,
    EVIL_ID,
    EVIL_VERDICT,
    STAGES,
    VERSION,
    build_core,
    build_full,
)

META = ("meta", ALL)
C1 = ("google_ads", "c1")


class _Collector(HTMLParser):
    """Checks tags nest properly; collects visible text, tags, attributes and script bodies."""

    VOID = {"meta", "br", "link", "img", "input", "hr", "rect", "circle", "line", "polyline",
            "path"}  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)


def parse(page: str) -> _Collector:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture
def full(tmp_path: Path) -> Path:
    return build_full(tmp_path / "reporting.duckdb")


@pytest.fixture
def page(full: Path, tmp_path: Path) -> str:
    return write_funnel_report(full, tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


# --- safety and self-containment ---------------------------------------------------------------


def test_report_parses_as_well_formed_html(page: str) -> None:
    parser = parse(page)
    assert parser.errors == [] and parser.stack == []
    assert page.startswith("<!DOCTYPE html>")


def test_every_value_is_escaped_and_the_only_script_is_the_filter(page: str) -> None:
    for hostile in (EVIL, EVIL_ID, EVIL_VERDICT):
        assert hostile not in page
    parser = parse(page)
    assert parser.tags.count("script") == 1 and parser.scripts == [SCRIPT]  # no data in it
    assert not {"img", "b", "iframe", "link", "object"} & set(parser.tags)
    assert not [name for name, _ in parser.attributes if name.startswith("on")]
    text = "".join(parser.text)
    assert EVIL in text and EVIL_ID in text and EVIL_VERDICT in text  # readable as text
    # The hostile id round-trips through the attributes the filter script compares.
    assert ("data-campaign", EVIL_ID) in parser.attributes


def test_report_is_self_contained(page: str) -> None:
    parser = parse(page)
    assert not [v for n, v in parser.attributes if n in ("src", "href") and v and v[0] != "#"]
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page


def test_report_is_written_atomically_without_temp_files(full: Path, tmp_path: Path) -> None:
    out = write_funnel_report(full, tmp_path / "out" / "report.html")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


# --- numbers -----------------------------------------------------------------------------------


def test_stage_figures_are_the_stage_totals_rows_of_each_scope(full: Path) -> None:
    data = load_report_data(full)
    micro = next(f for f in data.funnels if f.funnel_id == "micro_commitment")
    every = micro.views[EVERY]
    assert [s.journeys_reached for s in every.stages] == [300, 160, 80, 40, 16]
    assert [s.dropoff_count for s in every.stages] == [140, 80, 40, 24, 0]
    assert every.stages[0].step_conversion_rate == pytest.approx(160 / 300)
    assert every.stages[-1].step_conversion_rate is None
    assert every.stages[-1].overall_conversion_rate == pytest.approx(16 / 300)
    h = every.headline
    assert (h.entries, h.conversions) == (300, 16)
    assert h.spend == pytest.approx(280.0)  # spend once per campaign and day, not per stage
    assert h.cost_per_conversion == pytest.approx(280 / 16)
    # One platform and one campaign: their own sums.
    assert [s.journeys_reached for s in micro.views[META].stages] == [100, 40, 20, 10, 4]
    assert micro.views[META].headline.spend == pytest.approx(80.0)
    assert micro.views[C1].stages[1].step_conversion_rate == pytest.approx(60 / 120)
    assert set(micro.views) == {EVERY, ("google_ads", ALL), C1, META, ("meta", "c3")}


def test_the_report_adds_nothing_up_it_shows_the_marts_figures(full: Path) -> None:
    with duckdb.connect(str(full)) as con:
        con.execute(
            "UPDATE agg_funnel_stage_totals SET journeys_reached = 12345, entries = 777 "
            "WHERE funnel_id = 'micro_commitment' AND platform = '(all)' AND stage_order = 1"
        )
        con.execute("UPDATE agg_campaign_totals SET clicks = 4242 WHERE campaign_id = 'c1'")
    data = load_report_data(full)
    micro = next(f for f in data.funnels if f.funnel_id == "micro_commitment")
    assert micro.views[EVERY].stages[0].journeys_reached == 12345
    assert micro.views[EVERY].headline.entries == 777
    assert next(c for c in data.campaigns if c.campaign_id == "c1").clicks == 4242


def test_report_shows_only_the_newest_funnel_version(full: Path) -> None:
    data = load_report_data(full)
    direct = next(f for f in data.funnels if f.funnel_id == "direct_ask")
    assert direct.funnel_version == VERSION
    assert [s.journeys_reached for s in direct.stages] == [160, 8]
    assert [p.day for p in direct.views[EVERY].daily] == DAYS


def test_campaign_table_counts_each_campaign_in_the_funnel_it_feeds(full: Path) -> None:
    data = load_report_data(full)
    rows = {(c.platform, c.campaign_id): c for c in data.campaigns}
    # The direct-ask campaign: its direct_ask journeys, not 0 from the primary funnel.
    direct = rows[("google_ads", EVIL_ID)]
    assert direct.funnels == [CampaignFunnel("direct_ask", 160, 8, 0.05, 160 / 8)]
    assert direct.campaign_name == EVIL and direct.spend == pytest.approx(160.0)
    assert rows[C1].funnels == [CampaignFunnel("micro_commitment", 200, 12, 0.06, 200 / 12)]
    assert rows[C1].ctr == pytest.approx(0.05) and rows[C1].cpc == pytest.approx(2.0)


def test_campaign_table_names_the_funnel_of_every_number(page: str) -> None:
    section = _section(page, "campaign-performance")
    assert '<th class="text">funnel</th>' in section
    body_start = section.index(f'data-campaign="{escape(EVIL_ID)}"')
    body = section[body_start : section.index("</tbody>", body_start)]
    assert "direct_ask" in body and "<td>160</td>" in body and "<td>8</td>" in body
    assert "spend (EUR)" in section  # one currency: in the header, not in every cell


def test_trends_show_the_rollup_rows_by_day_and_iso_week(full: Path) -> None:
    micro = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    daily = micro.views[EVERY].daily
    assert [(p.day, p.journeys_started, p.journeys_converted) for p in daily] == [
        (DAYS[0], 150, 8),
        (DAYS[1], 150, 8),
    ]
    assert [p.is_final for p in daily] == [True, False]
    (week,) = micro.views[EVERY].weekly
    assert (week.iso_year, week.iso_week, week.journeys_started) == (2024, 9, 300)
    assert week.conversion_rate == pytest.approx(16 / 300)


def test_momentum_leaves_out_the_lift_at_the_conversion_stage(full: Path, page: str) -> None:
    micro = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    every = micro.views[EVERY].momentum
    assert [p.lift_vs_previous_stage for p in every] == [None, 2.0, 2.0, 2.0, None]  # the mart's
    meta = micro.views[META].momentum  # the mart's platform rows
    assert [p.conversion_probability for p in meta] == pytest.approx([0.04, 0.1, 0.2, 0.4, 1.0])
    assert meta[-1].lift_vs_previous_stage is None
    assert meta[1].lift_vs_previous_stage == pytest.approx(2.5)
    section = _section(page, "funnel-micro_commitment")
    table = section[section.index('<table class="momentum">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 1 + 4  # header and the stages before conversion
    assert "conversion</td>" not in table
    direct = _section(page, "funnel-direct_ask")
    assert "Momentum" not in direct  # one step: no curve


def test_intent_segments_show_the_totals_of_each_scope(full: Path, page: str) -> None:
    micro = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    segments = {s.intent_segment: s for s in micro.views[EVERY].segments}
    assert list(segments) == ["early", "late"]
    assert segments["late"].reached == (60, 32, 16, 8, 2)
    assert segments["late"].overall_conversion_rate == pytest.approx(2 / 60)
    assert micro.views[META].segments[0].reached[0] == 80
    assert "By intent segment" in _section(page, "funnel-micro_commitment")


def test_time_to_convert_total_comes_from_the_mart(full: Path, page: str) -> None:
    micro = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    # 2 x 6 conversions from c1 and 2 x 2 from c3: the mart's total_conversions.
    assert {b.scope_conversions for b in micro.views[EVERY].time_to_convert} == {16}
    assert {b.scope_conversions for b in micro.views[META].time_to_convert} == {4}
    assert "16 conversions; half of them" in _section(page, "funnel-micro_commitment")


def test_medians_are_exact_over_the_journeys_of_the_newest_version(full: Path) -> None:
    micro = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    # 10 s and 30 s per campaign; the excluded journey and the older version are left out.
    assert micro.views[EVERY].stages[0].median_seconds_to_next_stage == pytest.approx(20.0)
    assert micro.views[C1].stages[0].median_seconds_to_next_stage == pytest.approx(20.0)
    assert micro.views[EVERY].stages[1].median_seconds_to_next_stage is None


# --- sections ------------------------------------------------------------------------------------


def test_recommendations_come_first_ranked_per_scope(page: str) -> None:
    assert page.index('id="recommendations"') < page.index('id="sequence-comparison"')
    section = _section(page, "recommendations")
    every = section[section.index("funnel-scope") : section.index("By campaign")]
    assert (
        every.index('rank">1<')
        < every.index("Replace the big ask")
        < every.index('rank">2<')
        < every.index("Make the step after hook easier")
    )
    assert "152" in every and "95.0% of 160" in every and "152.00 EUR" in every
    per_campaign = section[section.index("By campaign") :]
    assert per_campaign.count('class="filter-row"') == 3
    assert 'data-platform="meta" data-campaign="c3"' in per_campaign
    assert "old definition" not in page


def test_findings_list_flagged_rows_of_the_newest_version(page: str) -> None:
    micro = _section(page, "funnel-micro_commitment")
    assert "What stands out" in micro and "Largest drop-off" in micro
    assert "no slow step filters" not in page and "old definition finding" not in page
    assert "most from campaign &lt;script&gt;" in _section(page, "funnel-direct_ask")


def test_report_shows_the_sequence_comparison(page: str) -> None:
    section = _section(page, "sequence-comparison")
    for text in [
        "2,000", "146", "7.3%", "6.2% to 8.5%", "27.64 EUR", "4,034.80 EUR",  # micro side
        "1,800", "77", "4.3%", "3.4% to 5.3%", "40.77 EUR", "3,139.00 EUR",  # direct side
        "relative lift +69.4%", "absolute lift +3.0 pp", "p-value 0.012",
        "significant (p &lt; 0.05)", "not final yet",
    ]:  # fmt: skip
        assert text in section, text
    assert "day verdict" not in page and "old definition verdict" not in page


def test_filter_offers_each_platform_and_campaign_once(page: str) -> None:
    start = page.index('<form id="filter"')
    form = page[start : page.index("</form>", start)]
    assert " hidden>" in form  # shown by the script only: no dead controls without JavaScript
    assert form.count('data-platform="google_ads"') == 3  # the platform and its two campaigns
    assert form.count('data-platform="meta"') == 2
    assert "Spring quiz (google_ads)" in form and "Video series (meta)" in form
    # Sorted by platform, then name: the <script> name sorts before "Spring quiz".
    assert form.index("&lt;script&gt;") < form.index("Spring quiz") < form.index("Video series")


def test_every_chart_is_an_accessible_image_with_axes(page: str) -> None:
    charts = page.split("<svg")[1:]
    assert len(charts) >= 20
    for chart in charts:
        opening = chart[: chart.index(">")]
        assert 'role="img"' in opening and 'aria-label="' in opening
        assert chart[chart.index(">") + 1 :].startswith("<title>")
        assert 'class="axis-title"' in chart and 'class="tick"' in chart
    daily = next(c for c in charts if 'class="chart daily"' in c)
    assert ">1 Mar</text>" in daily and ">2 Mar</text>" in daily
    weekly = next(c for c in charts if 'class="chart weekly"' in c)
    assert ">2024-W09</text>" in weekly


def test_each_funnel_has_a_view_per_platform_and_campaign(page: str) -> None:
    micro = _section(page, "funnel-micro_commitment")
    assert micro.count('<div class="scope"') == 5  # every, 2 platforms, 2 campaigns
    assert micro.index('data-platform="(all)" data-campaign="(all)"') < micro.index(
        '<details class="breakdown">'
    )


# --- older or incomplete reporting files ---------------------------------------------------------


def test_report_without_analysis_marts_still_shows_funnels_and_campaigns(tmp_path: Path) -> None:
    db = build_core(tmp_path / "core.duckdb")
    page = write_funnel_report(db, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Funnel micro_commitment" in page and 'id="campaign-performance"' in page
    assert 'id="recommendations"' not in page and "Momentum" not in page
    assert "is not published yet" not in page  # the stage totals carry their medians
    assert parse(page).errors == []


def test_report_without_published_marts_says_so(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    page = write_funnel_report(db, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "agg_funnel_stage_totals is not published yet" in page


def test_missing_reporting_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.duckdb"):
        write_funnel_report(tmp_path / "nope.duckdb", tmp_path / "r.html")


# --- the CLI's text table ----------------------------------------------------------------------


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


def test_stage_table_accepts_report_summaries(full: Path) -> None:
    data = load_report_data(full)
    text = format_stage_table(data.funnels[0].stages)
    assert all(stage in text for stage in STAGES[data.funnels[0].funnel_id])


def test_a_funnel_draws_views_for_its_biggest_campaigns_only(full: Path) -> None:
    funnel = next(f for f in load_report_data(full).funnels if f.funnel_id == "micro_commitment")
    limited = limit_campaign_views(funnel, limit=1)
    # c1 (200 entries) keeps its view; c3 (100) is listed with its entries; platforms stay.
    assert set(limited.views) == {EVERY, ("google_ads", ALL), C1, META}
    assert limited.undrawn == {("meta", "c3"): 100}
    html = funnel_section(limited, {("meta", "c3"): "Video series"}, "EUR")
    assert 'data-platform="meta" data-campaign="c3"' in html
    assert "Video series has 100 journeys in micro_commitment" in html
