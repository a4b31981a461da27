"""Landing paths stay inside the landing root: links and `..` are refused, never read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.lib.landing_files import (
    LandingPathError,
    ga4_files_for_day,
    google_ads_files,
    safe_landing_path,
)

DAY = date(2024, 1, 5)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "events_20240105.json"
    secret.parent.mkdir()
    secret.write_text('{"event_name": "page_view"}\n')
    return secret


def test_a_regular_export_file_is_found(landing):
    export = landing / "ga4" / "events_20240105.json"
    export.write_text("{}\n")
    assert ga4_files_for_day(landing, DAY) == [export.resolve()]


def test_a_symlinked_export_file_pointing_outside_is_refused(landing, outside):
    (landing / "ga4" / "events_20240105.json").symlink_to(outside)
    with pytest.raises(LandingPathError, match="symbolic link"):
        ga4_files_for_day(landing, DAY)


def test_a_symlink_to_a_file_inside_the_root_is_refused_too(landing):
    real = landing / "ga4" / "real.json"
    real.write_text("{}\n")
    (landing / "ga4" / "events_20240105.json").symlink_to(real)
    with pytest.raises(LandingPathError, match="symbolic link"):
        ga4_files_for_day(landing, DAY)


def test_a_symlinked_shard_folder_is_refused(landing, outside):
    (landing / "ga4" / "events_20240105").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(LandingPathError, match=r"outside the landing root|symbolic link"):
        ga4_files_for_day(landing, DAY)


def test_a_symlinked_report_folder_is_refused(landing, tmp_path):
    reports = tmp_path / "elsewhere"
    reports.mkdir()
    (reports / "report.csv").write_text("Day,Cost\n")
    (landing / "google_ads" / "linked").symlink_to(reports, target_is_directory=True)
    assert google_ads_files(landing) == []  # rglob does not descend into links ...
    with pytest.raises(LandingPathError, match="outside the landing root"):
        safe_landing_path(landing, landing / "google_ads" / "linked" / "report.csv")


def test_a_linked_folder_pointing_inside_the_root_is_refused(landing):
    inner = landing / "archive"
    inner.mkdir()
    (inner / "report.csv").write_text("Day,Cost\n")
    (landing / "google_ads" / "linked").symlink_to(inner, target_is_directory=True)
    with pytest.raises(LandingPathError, match="is a symbolic link"):
        safe_landing_path(landing, landing / "google_ads" / "linked" / "report.csv")


def test_a_file_reached_through_dotdot_is_refused(landing, outside):
    sneaky = landing / "ga4" / ".." / ".." / "outside" / outside.name
    assert sneaky.exists()
    with pytest.raises(LandingPathError, match=r"'\.\.'"):
        safe_landing_path(landing, sneaky)


def test_dotdot_is_refused_even_when_it_stays_inside_the_root(landing):
    export = landing / "ga4" / "events_20240105.json"
    export.write_text("{}\n")
    with pytest.raises(LandingPathError, match=r"'\.\.'"):
        safe_landing_path(landing, landing / "google_ads" / ".." / "ga4" / export.name)


def test_a_path_outside_the_root_is_refused(landing, outside):
    with pytest.raises(LandingPathError, match="outside the landing root"):
        safe_landing_path(landing, outside)


def test_the_landing_root_itself_may_be_a_link(tmp_path, landing):
    export = landing / "ga4" / "events_20240105.json"
    export.write_text("{}\n")
    mounted = tmp_path / "mounted"
    mounted.symlink_to(landing, target_is_directory=True)
    assert ga4_files_for_day(mounted, DAY) == [export.resolve()]
