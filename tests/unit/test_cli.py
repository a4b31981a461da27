"""The command line a newcomer meets: mistakes are caught before anything starts and explained in
one line each, without a traceback unless --debug; help says what the options mean."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import pytest

from pipelines.cli.console import Console
from pipelines.cli.preflight import PreflightError, check_run_settings
from pipelines.lib.settings import Settings, SettingsError
from pipelines.run_progress import INGEST, TRANSFORM, RunProgress, StepFailure
from tests.cli_runner import run_cli

KEY = "k" * 40


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli(home, *args, **env)


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    (tmp_path / "landing").mkdir(exist_ok=True)
    values = {
        "landing_dir": tmp_path / "landing",
        "warehouse_dir": tmp_path / "warehouse",
        "funnels_file": Path(__file__).resolve().parents[2] / "funnels" / "funnels.yml",
        "pseudonymization_key": KEY,
        "start_date": date(2024, 1, 1),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# --- before anything starts ---------------------------------------------------------------


def test_run_with_end_before_start_and_no_key_lists_both_problems_without_a_traceback(
    tmp_path: Path,
) -> None:
    result = _cli(tmp_path, "run", "--start", "2024-03-05", "--end", "2024-03-01")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert lines[0] == "microfunnel: error: cannot start the run:"
    assert any("--end 2024-03-01 is before --start 2024-03-05" in line for line in lines)
    assert any(line.startswith("  - MICROFUNNEL_PSEUDONYMIZATION_KEY is not set") for line in lines)
    assert not (tmp_path / "dagster_home" / "storage").exists()  # no run was started


def test_a_setting_that_is_not_a_date_names_the_variable(tmp_path: Path) -> None:
    result = _cli(
        tmp_path, "run", "--start", "2024-03-01", "--end", "2024-03-01",
        MICROFUNNEL_START_DATE="May 1",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "microfunnel: error: MICROFUNNEL_START_DATE='May 1' is not a date (expected YYYY-MM-DD)"
    )


def test_generate_with_end_before_start_is_one_clear_line(tmp_path: Path) -> None:
    result = _cli(tmp_path, "generate", "--start", "2024-03-05", "--end", "2024-03-01")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "microfunnel: error: --end 2024-03-01 is before --start 2024-03-05 (both are included)"
    )
    assert not (tmp_path / "landing").exists()


def test_debug_shows_the_traceback_of_the_same_error(tmp_path: Path) -> None:
    result = _cli(tmp_path, "generate", "--start", "2024-03-05", "--end", "2024-03-01", "--debug")
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.rstrip().endswith("(both are included)")


def test_a_date_in_another_format_is_refused_by_the_argument_parser(tmp_path: Path) -> None:
    result = _cli(tmp_path, "run", "--start", "01/03/2024", "--end", "2024-03-01")
    assert result.returncode == 2
    assert "'01/03/2024' is not a date (expected YYYY-MM-DD)" in result.stderr


def test_preflight_refuses_days_outside_the_partitions_and_days_not_over(tmp_path: Path) -> None:
    settings = _settings(tmp_path, start_date=date(2024, 3, 1))
    with pytest.raises(PreflightError) as info:
        check_run_settings(settings, date(2024, 2, 28), date(2024, 3, 2), today=date(2024, 3, 2))
    problems = "\n".join(info.value.problems)
    assert "--start 2024-02-28 is before MICROFUNNEL_START_DATE=2024-03-01" in problems
    assert "--end 2024-03-02 has not ended yet in UTC (today is 2024-03-02)" in problems
    check_run_settings(settings, date(2024, 3, 1), date(2024, 3, 1), today=date(2024, 3, 2))


def test_preflight_names_a_missing_landing_folder_and_an_unknown_timezone(tmp_path: Path) -> None:
    settings = _settings(tmp_path, landing_dir=tmp_path / "nope", timezone="Mars/Olympus")
    with pytest.raises(PreflightError) as info:
        check_run_settings(settings, date(2024, 3, 1), date(2024, 3, 1))
    assert f"MICROFUNNEL_LANDING_DIR={tmp_path / 'nope'}: no such folder" in info.value.problems
    assert any("MICROFUNNEL_TIMEZONE='Mars/Olympus'" in p for p in info.value.problems)


def test_preflight_reports_an_invalid_funnel_file_with_its_problems(tmp_path: Path) -> None:
    funnels = tmp_path / "funnels.yml"
    funnels.write_text("funnels:\n  - id: Bad-Id\n")
    settings = _settings(tmp_path, funnels_file=funnels)
    with pytest.raises(PreflightError) as info:
        check_run_settings(settings, date(2024, 3, 1), date(2024, 3, 1))
    assert f"{funnels}: funnels[0]: id: invalid funnel id 'Bad-Id'" in info.value.problems[0]
    assert len(info.value.problems) == 3  # one line per problem of the file


@pytest.mark.parametrize("value", ["-1", "x", "366"])
def test_late_data_days_outside_0_to_365_is_a_settings_error(value: str) -> None:
    with pytest.raises(SettingsError, match="MICROFUNNEL_LATE_DATA_DAYS"):
        Settings.from_env({"MICROFUNNEL_LATE_DATA_DAYS": value})


def test_end_date_before_start_date_is_a_settings_error() -> None:
    env = {"MICROFUNNEL_START_DATE": "2024-03-02", "MICROFUNNEL_END_DATE": "2024-03-01"}
    with pytest.raises(SettingsError, match="MICROFUNNEL_END_DATE=2024-03-01 is before"):
        Settings.from_env(env)


# --- help -----------------------------------------------------------------------------------


def test_run_help_says_date_format_that_end_is_included_settings_and_examples(
    tmp_path: Path,
) -> None:
    text = _cli(tmp_path, "run", "--help").stdout
    assert "YYYY-MM-DD" in text
    assert "--end is included" in text
    for variable in ("MICROFUNNEL_LANDING_DIR", "MICROFUNNEL_PSEUDONYMIZATION_KEY", "DAGSTER_HOME"):
        assert variable in text
    assert "microfunnel run --start 2024-05-01 --end 2024-05-31" in text


def test_every_command_has_help_with_an_example(tmp_path: Path) -> None:
    for command in ("generate", "run", "demo", "purge", "report", "ui"):
        text = _cli(tmp_path, command, "--help").stdout
        assert "example" in text, command


def test_generate_google_only_writes_ga4_and_google_ads_and_names_each_source(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing_google"
    result = _cli(
        tmp_path, "generate", "--start", "2024-03-01", "--end", "2024-03-02",
        "--events-per-day", "400", "--ads", "google_ads", "--landing-dir", str(landing),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in landing.iterdir()) == ["ga4", "google_ads"]
    lines = result.stdout.splitlines()
    assert any(line.startswith("  ga4: 2 files, ") for line in lines)
    assert "  google_ads: 2 files, 48 ad rows (USD)" in lines
    assert "  6 campaigns" in lines


def test_generate_splits_visitors_across_trackers_and_reports_each_platform(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pipelines.lib.generator.segment_export")
    pytest.importorskip("pipelines.lib.generator.meta_insights_export")
    landing = tmp_path / "landing_mix"
    result = _cli(
        tmp_path, "generate", "--start", "2024-03-01", "--end", "2024-03-01",
        "--events-per-day", "600", "--ads", "google_ads,meta_ads", "--meta-format", "api",
        "--trackers", "ga4,segment:0.3", "--landing-dir", str(landing),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (landing / "meta_ads" / "insights_20240301.json").exists()
    assert sorted(p.name for p in landing.iterdir()) == [
        "exchange_rates",  # the Meta account's EUR needs rates
        "ga4",
        "google_ads",
        "meta_ads",
        "segment",
    ]
    assert any(line.startswith("  meta_ads: 1 files, 12 ad rows (EUR)") for line in
               result.stdout.splitlines())  # fmt: skip
    assert any(line.startswith("  segment: ") for line in result.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--ads", "google,meta_ads"), "argument --ads: 'google,meta_ads': expected a comma-"),
        (("--trackers", "ga4,mixpanel"), "argument --trackers: 'mixpanel': expected tracker"),
        (("--trackers", "ga4,segment:2"), "'segment:2': the share must be a number in [0, 1]"),
        (("--trackers", "ga4:0.5,segment:0.2"), "error: tracker shares must add up to 1, got 0.7"),
        (("--meta-format", "xml"), "argument --meta-format: invalid choice: 'xml'"),
    ],
)
def test_generate_refuses_unknown_sources_in_one_line(tmp_path: Path, args, message) -> None:
    landing = tmp_path / "landing_bad"
    result = _cli(
        tmp_path, "generate", "--start", "2024-03-01", "--end", "2024-03-01",
        "--landing-dir", str(landing), *args,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert not landing.exists()


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = _cli(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.startswith("microfunnel ")


# --- progress -------------------------------------------------------------------------------


class _Pipe(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return False


def _progress() -> RunProgress:
    from pipelines.run_progress import PhaseProgress

    phases = {
        INGEST: PhaseProgress(INGEST, steps_total=3),
        TRANSFORM: PhaseProgress(TRANSFORM, steps_total=1, models_total=30),
        "publish": PhaseProgress("publish", steps_total=4),
    }
    return RunProgress(phases)


def test_progress_prints_one_line_per_finished_phase_and_marks_what_a_failure_cut_short() -> None:
    out = _Pipe()
    console = Console(out=out, err=out)
    progress = _progress()
    ingest, transform = progress.phases[INGEST], progress.phases[TRANSFORM]
    ingest.started_at, ingest.steps_done, ingest.files_read = 1.0, 1, 0
    console.progress(progress)
    assert out.getvalue() == ""  # nothing until a phase ends (no terminal to redraw)
    ingest.steps_done, ingest.finished_at = 3, 5.0
    ingest.files_read, ingest.rows_loaded, ingest.rows_quarantined = 2, 1234, 5
    transform.started_at, transform.models_done = 5.0, 12
    console.progress(progress)
    console.progress(progress)  # a phase is reported once
    progress.failures.append(StepFailure("microfunnel_dbt_models", TRANSFORM, "dbt failed"))
    console.finish_run(progress)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        "  ✓ ingest     3/3 steps, 2 files: 1,234 rows loaded, 5 quarantined"
    )
    assert lines[1].startswith("  ✗ transform  12/30 dbt models")
    assert lines[1].endswith("(stopped)")
    assert lines[2] == "  - publish    not run"
    assert len(lines) == 3


def test_a_terminal_gets_one_redrawn_line_and_no_escape_codes_in_the_final_lines() -> None:
    class _Terminal(_Pipe):
        def isatty(self) -> bool:
            return True

    out = _Terminal()
    console = Console(out=out, err=out)
    progress = _progress()
    progress.phases[INGEST].started_at = 1.0
    console.progress(progress)
    console.progress(progress)
    assert out.getvalue().count("\r") >= 2 and "\n" not in out.getvalue()
    assert "\x1b[" not in out.getvalue()
