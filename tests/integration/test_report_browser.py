"""The HTML report of a real nightly run, opened in headless Chromium (Debian's package, driven by
Playwright; scripts/ensure_chromium.sh installs it when missing, and these tests skip with its
reason only when it cannot). What a growth marketer sees: ranked recommendations, charts with
axes and dates, a platform/campaign filter that narrows the tables and charts, no script errors,
no network request but the file itself, and a hostile campaign name shown as text.

One pipeline run for the module (Saturday to Monday, so the weekly view has two ISO weeks); a
campaign of the generated Google Ads export is renamed to an HTML/JS payload before the run.
"""

from __future__ import annotations

import os
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipelines.lib.generator.catalog import PLATFORM_NAMES, lineup
from pipelines.runner import run_nightly_job
from tests.journey_fixtures import PipelineEnvironment, generated_exports, run_failures

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_CHROMIUM = REPO_ROOT / "scripts" / "ensure_chromium.sh"
START = date(2024, 3, 2)  # Saturday
END = date(2024, 3, 4)  # Monday: ISO week 10 starts
EVENTS_PER_DAY = 3000
SEED = 41
RENAMED = "summer_sale_direct"
# A campaign name that runs script if it reaches the page unescaped, in a cell or an attribute.
HOSTILE = '<img src=x onerror="alert(1)"> Summer & "sale" </td><script>alert(2)</script>'
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str:
    """The system Chromium, installed by scripts/ensure_chromium.sh when missing."""
    path = os.environ.get("MICROFUNNEL_CHROMIUM", "/usr/bin/chromium")
    result = subprocess.run(
        ["sh", str(ENSURE_CHROMIUM)], capture_output=True, text=True, check=False, timeout=900
    )
    if result.returncode != 0:
        pytest.skip(f"no Chromium to test the report in: {result.stderr.strip()}")
    return path


def rename_campaign(landing: Path, old: str, new: str) -> int:
    """Rename a campaign in every Google Ads report (campaign.name is a whole CSV field)."""
    quoted = '"' + new.replace('"', '""') + '"'
    renamed = 0
    for report in sorted((landing / "google_ads").glob("*.csv")):
        text = report.read_text(encoding="utf-8")
        renamed += text.count(f",{old},")
        report.write_text(text.replace(f",{old},", f",{quoted},"), encoding="utf-8")
    return renamed


@dataclass
class Page:
    """A browser page on the report, with what it logged."""

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Nightly:
    succeeded: bool
    failures: str
    report: Path


@pytest.fixture(scope="module")
def nightly(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[Nightly]:
    root = tmp_path_factory.mktemp("report_browser")
    with generated_exports(
        root, pipeline_environment, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED
    ) as (settings, instance):
        assert rename_campaign(settings.landing_dir, RENAMED, HOSTILE) > 0
        succeeded = run_nightly_job(settings, START, END, instance=instance)
        yield Nightly(
            succeeded,
            "" if succeeded else run_failures(instance),
            settings.reporting_dir / "funnel_report.html",
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_report(browser: Any, report: Path, *, javascript: bool = True) -> Page:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    opened = Page(page, report.resolve().as_uri())
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    page.on("request", lambda r: opened.requests.append(r.url))

    def dismiss(dialog: Any) -> None:
        opened.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(opened.url)
    return opened


def visible_texts(page: Any, selector: str) -> list[str]:
    return [el.inner_text().strip() for el in page.locator(selector).all() if el.is_visible()]


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_report_opens_offline_with_no_errors_and_a_full_page_screenshot(
    browser: Any, nightly: Nightly, tmp_path: Path
) -> None:
    assert nightly.succeeded, nightly.failures
    opened = open_report(browser, nightly.report)
    page = opened.page
    shot = tmp_path / "funnel_report.png"
    page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot)
    assert width >= 1200 and height > 3000, (width, height)
    assert opened.errors == []
    assert opened.dialogs == []  # the hostile campaign name ran no script
    assert opened.requests == [opened.url]  # one self-contained file, nothing fetched
    # The filter bar appears with JavaScript; the hostile name is shown as text.
    assert page.locator("#filter").is_visible()
    assert page.get_by_text('Summer & "sale"', exact=False).count() > 0
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1


def test_recommendations_are_ranked_with_people_and_spend_at_stake(
    browser: Any, nightly: Nightly
) -> None:
    assert nightly.succeeded, nightly.failures
    page = open_report(browser, nightly.report).page
    section = page.locator("#recommendations")
    assert section.locator("h2").inner_text() == "Fix this first"
    for table in ("table.funnel-scope", "table.campaign-scope"):
        ranks = [int(t) for t in visible_texts(section.locator(table), "td.rank")]
        assert ranks == list(range(1, len(ranks) + 1)) and ranks, table
        people = [
            int(t.splitlines()[0].replace(",", ""))
            for t in visible_texts(section.locator(table), "td:nth-child(3)")
        ]
        assert people == sorted(people, reverse=True), table  # most people lost first
    top = section.locator("table.funnel-scope tbody tr").first.inner_text()
    assert "USD" in top  # spend at stake, in the account currency


def test_every_chart_has_axes_labels_values_and_dates(browser: Any, nightly: Nightly) -> None:
    assert nightly.succeeded, nightly.failures
    page = open_report(browser, nightly.report).page
    charts = [c for c in page.locator("svg.chart").all() if c.is_visible()]
    assert len(charts) >= 10
    for chart in charts:
        label = chart.get_attribute("aria-label")
        assert chart.get_attribute("role") == "img" and label, "chart without accessible name"
        assert chart.locator("title").first.text_content() == label
        assert chart.locator("text.axis-title").count() >= 1, label
        assert chart.locator("text.tick").count() >= 2, label
    daily = page.locator("#funnel-micro_commitment svg.daily").first
    ticks = daily.locator("text.tick").all_text_contents()
    for day in ("2 Mar", "3 Mar", "4 Mar"):
        assert day in ticks, ticks
    assert any(v.endswith("%") for v in daily.locator("text.value-sm").all_text_contents())
    weekly = page.locator("#funnel-micro_commitment svg.weekly").first
    assert {"2024-W09", "2024-W10"} <= set(weekly.locator("text.tick").all_text_contents())
    assert page.locator("#funnel-micro_commitment svg.segments").first.is_visible()


def test_the_filter_narrows_tables_and_charts_to_one_campaign(
    browser: Any, nightly: Nightly, tmp_path: Path
) -> None:
    assert nightly.succeeded, nightly.failures
    opened = open_report(browser, nightly.report)
    page = opened.page
    every_rows = len(visible_texts(page, "#campaign-performance tbody"))
    assert every_rows == 16  # every platform's campaigns
    page.select_option("#filter-campaign", label="spring_quiz_micro (google_ads)")
    campaign_rows = visible_texts(page, "#campaign-performance tbody")
    assert len(campaign_rows) == 1 and campaign_rows[0].startswith("spring_quiz_micro")
    assert "micro_commitment" in campaign_rows[0]
    for row in visible_texts(page, "#recommendations tr.filter-row"):
        assert "spring_quiz_micro" in row
    assert not page.locator("#recommendations .every-only").is_visible()
    micro = page.locator("#funnel-micro_commitment")
    scopes = [s for s in micro.locator(".scope").all() if s.is_visible()]
    assert len(scopes) == 1
    assert scopes[0].locator("h3").inner_text().startswith("spring_quiz_micro")
    assert scopes[0].locator("svg.funnel").is_visible()
    # The campaign's own entries, not every campaign's.
    every_entries = micro.locator(".scope").first.locator(".kpi strong").first.text_content()
    assert scopes[0].locator(".kpi strong").first.inner_text() != every_entries
    assert page.locator("#funnel-direct_ask .no-scope").is_visible()
    assert page.locator("#filter-status").inner_text() == "Showing spring_quiz_micro (google_ads)."
    page.screenshot(path=str(tmp_path / "filtered.png"), full_page=True)
    # One platform: every campaign of it, the platform's own totals in the funnel sections.
    page.click("#filter-reset")
    page.select_option("#filter-platform", label="google_ads")
    assert len(visible_texts(page, "#campaign-performance tbody")) == 6
    platform_scope = [s for s in micro.locator(".scope").all() if s.is_visible()]
    assert len(platform_scope) == 1
    assert platform_scope[0].get_attribute("data-campaign") == "(all)"
    assert platform_scope[0].get_attribute("data-platform") == "google_ads"
    page.click("#filter-reset")
    assert len(visible_texts(page, "#campaign-performance tbody")) == 16
    assert page.locator("#recommendations .every-only").is_visible()
    assert opened.errors == []


def test_the_hostile_campaign_name_filters_like_any_other(browser: Any, nightly: Nightly) -> None:
    assert nightly.succeeded, nightly.failures
    opened = open_report(browser, nightly.report)
    page = opened.page
    option = page.locator("#filter-campaign option", has_text="Summer &")
    assert option.count() == 1
    page.select_option("#filter-campaign", value=option.get_attribute("value"))
    rows = visible_texts(page, "#campaign-performance tbody")
    # Shown to the reader as the literal text it is.
    assert len(rows) == 1 and rows[0].startswith(HOSTILE.split("<script>")[0].strip())
    assert "direct_ask" in rows[0]
    assert opened.errors == [] and opened.dialogs == []


def test_without_javascript_the_page_still_shows_everything(browser: Any, nightly: Nightly) -> None:
    assert nightly.succeeded, nightly.failures
    page = open_report(browser, nightly.report, javascript=False).page
    assert not page.locator("#filter").is_visible()
    assert len(visible_texts(page, "#campaign-performance tbody")) == 16
    assert page.locator("#recommendations table.campaign-scope td.rank").count() > 0
    # The per-campaign views are on the page, one click away.
    breakdown = page.locator("#funnel-micro_commitment details.breakdown")
    # One scope per platform running micro campaigns, then one per micro campaign.
    micro = [c for c in lineup(PLATFORM_NAMES).campaigns if c.is_micro]
    assert breakdown.locator(".scope").count() == len({c.platform for c in micro}) + len(micro)
    breakdown.locator("summary").click()
    assert breakdown.locator(".scope svg.funnel").first.is_visible()
