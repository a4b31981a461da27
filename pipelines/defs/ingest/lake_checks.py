"""Checks every ingestion asset runs on the partitions it just wrote.

Blocking (ERROR): the suite's error-severity expectations and the quarantine share. Warnings
(WARN, shown with their numbers): the suite's warning-severity expectations, the volume
anomaly, and per table the freshness of the newest event (events) and the click-id match rate
between ads and site sessions (ad_performance). Every result is also appended to the lake's
check history (pipelines/lib/quality/history.py).
"""

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.lib.ingest import IngestResult
from pipelines.lib.ingest.lake import partition_dir
from pipelines.lib.quality import SuiteOutcome
from pipelines.lib.quality.checks import check_partition_parquet
from pipelines.lib.quality.computed import (
    MAX_EVENT_LAG_HOURS,
    MIN_CLICK_ID_MATCH_RATE,
    VOLUME_HIGH_RATIO,
    VOLUME_LOW_RATIO,
    VOLUME_MIN_HISTORY,
    VOLUME_WINDOW,
    Measure,
    click_id_match_rate,
    newest_event_freshness,
    partition_row_counts,
    volume_anomaly,
)
from pipelines.lib.quality.history import CheckRecord, append_history
from pipelines.lib.settings import Settings

SUITE_ERRORS = "great_expectations_errors"
SUITE_WARNINGS = "great_expectations_warnings"
QUARANTINE_SHARE = "quarantine_share"
VOLUME_ANOMALY = "volume_anomaly"
NEWEST_EVENT_FRESHNESS = "newest_event_freshness"
CLICK_ID_MATCH_RATE = "click_id_match_rate"
# Above this share of landed rows in quarantine, the day is too broken to report on.
MAX_QUARANTINE_SHARE = 0.05
# Table (lake folder) names; the asset modules import this module, not the other way round.
EVENTS_TABLE = "events"
AD_PERFORMANCE_TABLE = "ad_performance"
# Per-day lines kept in a check's `details` (failing days first).
MAX_DETAIL_LINES = 40


def check_specs(asset_key: str) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            SUITE_ERRORS,
            asset=asset_key,
            blocking=True,
            description=f"expectations/{asset_key}.json, error-severity expectations: block.",
        ),
        dg.AssetCheckSpec(
            SUITE_WARNINGS,
            asset=asset_key,
            description=f"expectations/{asset_key}.json, warning-severity expectations.",
        ),
        dg.AssetCheckSpec(
            QUARANTINE_SHARE,
            asset=asset_key,
            blocking=True,
            description=(
                f"Quarantined rows stay under {MAX_QUARANTINE_SHARE:.0%} of landed rows, and no "
                "file was quarantined whole (a truncated or corrupt compressed file would leave "
                "a partial day)."
            ),
        ),
        dg.AssetCheckSpec(
            VOLUME_ANOMALY,
            asset=asset_key,
            description=(
                f"Warns when a day's rows are >= {VOLUME_HIGH_RATIO:g}x or <= "
                f"{VOLUME_LOW_RATIO:g}x the median of the previous {VOLUME_WINDOW} partitions "
                f"in the lake (not compared with fewer than {VOLUME_MIN_HISTORY})."
            ),
        ),
    ]
    if asset_key == EVENTS_TABLE:
        specs.append(
            dg.AssetCheckSpec(
                NEWEST_EVENT_FRESHNESS,
                asset=asset_key,
                description=(
                    f"Warns when a day's newest event_at is more than {MAX_EVENT_LAG_HOURS:g} h "
                    "before the end of the export day (reporting timezone): a truncated export."
                ),
            )
        )
    if asset_key == AD_PERFORMANCE_TABLE:
        specs.append(
            dg.AssetCheckSpec(
                CLICK_ID_MATCH_RATE,
                asset=asset_key,
                description=(
                    "Warns when under "
                    f"{MIN_CLICK_ID_MATCH_RATE:.0%} of the day's paid site sessions (click id or "
                    "paid UTM) have a campaign (utm_id, else utm_campaign) in the day's ad report."
                ),
            )
        )
    return specs


def run_checks(
    asset_key: str,
    written: dict[date, Path],
    results: list[IngestResult],
    *,
    settings: Settings,
    context: dg.AssetExecutionContext | None = None,
) -> Iterator[dg.AssetCheckResult]:
    """The suite on each written partition (duplicates across days are dbt's to resolve), the
    quarantine share over the run, the computed warnings; then the history row of each."""
    context = context or _current_context()
    outcomes = {
        day: check_partition_parquet(
            asset_key,
            [path],
            engine=settings.quality_engine,
            memory=settings.duckdb_memory,
        )
        for day, path in written.items()
    }
    checked: list[tuple[dg.AssetCheckResult, CheckRecord]] = [
        _suite_result(asset_key, SUITE_ERRORS, outcomes, errors=True),
        _suite_result(asset_key, SUITE_WARNINGS, outcomes, errors=False),
        _quarantine_result(asset_key, written, results),
    ]
    table_dir = _table_dir(written)
    volume: list[Measure] = []
    freshness: list[Measure] = []
    rates: list[Measure] = []
    if table_dir is not None:
        counts = partition_row_counts(table_dir)
        volume = [volume_anomaly(counts, day) for day in written]
        if asset_key == EVENTS_TABLE:
            freshness = [
                newest_event_freshness([p], d, settings.timezone) for d, p in written.items()
            ]
        if asset_key == AD_PERFORMANCE_TABLE:
            events_dir = table_dir.parent / EVENTS_TABLE
            rates = [
                click_id_match_rate([p], sorted(partition_dir(events_dir, d).glob("*.parquet")), d)
                for d, p in written.items()
            ]
    checked.append(_measured(asset_key, VOLUME_ANOMALY, volume))
    if asset_key == EVENTS_TABLE:
        checked.append(_measured(asset_key, NEWEST_EVENT_FRESHNESS, freshness))
    if asset_key == AD_PERFORMANCE_TABLE:
        checked.append(_measured(asset_key, CLICK_ID_MATCH_RATE, rates))
    if table_dir is not None:
        _keep_history(context, table_dir.parent, asset_key, [record for _, record in checked])
    for result, _ in checked:
        yield result


def _current_context() -> dg.AssetExecutionContext | None:
    try:
        return dg.AssetExecutionContext.get()
    except Exception:  # called outside a Dagster step (scripts, tests)
        return None


def _table_dir(written: dict[date, Path]) -> Path | None:
    """`<lake>/<table>` from a written `<lake>/<table>/date=.../part-0.parquet`."""
    for path in written.values():
        return Path(path).parent.parent
    return None


def _keep_history(
    context: dg.AssetExecutionContext | None,
    lake_dir: Path,
    asset_key: str,
    records: Sequence[CheckRecord],
) -> None:
    """Append the run's results to the lake's check history. A failure to write history is
    logged, not raised: the results themselves are still in Dagster's event log."""
    run_id = context.run.run_id if context is not None else "outside-dagster"
    try:
        path = append_history(lake_dir, run_id, asset_key, records)
    except Exception as exc:
        if context is None:
            raise
        context.log.error(f"{asset_key}: could not append the check history: {exc}")
        return
    if context is not None and path is not None:
        context.log.info(f"{asset_key}: {len(records)} check results appended to {path}")


def _result(
    asset_key: str,
    check_name: str,
    days: Sequence[date],
    *,
    passed: bool,
    error: bool,
    metadata: dict[str, Any],
    description: str | None = None,
) -> tuple[dg.AssetCheckResult, CheckRecord]:
    severity = dg.AssetCheckSeverity.ERROR if error else dg.AssetCheckSeverity.WARN
    result = dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=passed,
        severity=severity,
        metadata=metadata,
        description=description,
    )
    record = CheckRecord(
        asset=asset_key,
        check_name=check_name,
        partition_dates=tuple(days),
        passed=passed,
        severity=severity.value,
        metrics=metadata,
    )
    return result, record


def _quarantine_result(
    asset_key: str, written: dict[date, Path], results: list[IngestResult]
) -> tuple[dg.AssetCheckResult, CheckRecord]:
    landed = sum(result.landed for result in results)
    quarantined = sum(result.quarantined for result in results)
    share = quarantined / landed if landed else 0.0
    # A file quarantined whole counts as one row but may be most of a day: it always blocks.
    whole = [f"{name}: {reason}" for r in results for name, reason in r.unreadable_files]
    return _result(
        asset_key,
        QUARANTINE_SHARE,
        list(written),
        passed=share <= MAX_QUARANTINE_SHARE and not whole,
        error=True,
        metadata={
            "landed": landed,
            "quarantined": quarantined,
            "share": round(share, 6),
            "threshold": MAX_QUARANTINE_SHARE,
            "files_quarantined_whole": len(whole),
        },
        description="\n".join(f"quarantined whole: {w}" for w in whole) or None,
    )


def _measured(
    asset_key: str, check_name: str, measures: list[Measure]
) -> tuple[dg.AssetCheckResult, CheckRecord]:
    """One WARN result over the run's days: the worst day's numbers, one line per day."""
    failing = [m for m in measures if not m.passed]
    skipped = [m for m in measures if m.skipped]
    worst = max(measures, key=lambda m: (not m.passed, m.badness), default=None)
    ordered = failing + [m for m in measures if m.passed]
    lines = [m.note for m in ordered[:MAX_DETAIL_LINES]]
    if len(ordered) > MAX_DETAIL_LINES:
        lines.append(f"... and {len(ordered) - MAX_DETAIL_LINES} more days")
    metadata: dict[str, Any] = {
        **(worst.metadata if worst else {}),
        "partitions_checked": len(measures),
        "partitions_failing": len(failing),
        "partitions_skipped": len(skipped),
        "details": "\n".join(lines) or "nothing to check",
    }
    return _result(
        asset_key,
        check_name,
        [m.day for m in measures],
        passed=not failing,
        error=False,
        metadata=metadata,
        description="\n".join(m.note for m in failing[:MAX_DETAIL_LINES]) or None,
    )


def _suite_result(
    asset_key: str, check_name: str, outcomes: dict[date, SuiteOutcome], *, errors: bool
) -> tuple[dg.AssetCheckResult, CheckRecord]:
    failing = {
        day: outcome
        for day, outcome in outcomes.items()
        if not (outcome.success_errors if errors else outcome.success_warnings)
    }
    details = "\n".join(f"{day}: {outcome.describe()}" for day, outcome in failing.items())
    evaluated = next(iter(outcomes.values())).evaluated if outcomes else 0
    return _result(
        asset_key,
        check_name,
        list(outcomes),
        passed=not failing,
        error=errors,
        metadata={
            "partitions_checked": len(outcomes),
            "partitions_failing": len(failing),
            "expectations_per_partition": evaluated,
            "details": details or "all expectations passed",
        },
        description=details or None,
    )
