"""Checks every ingestion asset runs on the partitions it just wrote."""


from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.lib.ingest import IngestResult
from pipelines.lib.quality import SuiteOutcome
from pipelines.lib.quality.checks import check_partition_parquet

SUITE_ERRORS = "great_expectations_errors"
SUITE_WARNINGS = "great_expectations_warnings"
QUARANTINE_SHARE = "quarantine_share"
# Above this share of landed rows in quarantine, the day is too broken to report on.
MAX_QUARANTINE_SHARE = 0.05


def check_specs(asset_key: str) -> list[dg.AssetCheckSpec]:
    return [
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
            description=f"Quarantined rows stay under {MAX_QUARANTINE_SHARE:.0%} of landed rows.",
        ),
    ]


def run_checks(
    asset_key: str, written: dict[date, Path], results: list[IngestResult]
) -> Iterator[dg.AssetCheckResult]:
    """GX on each written partition (duplicates across days are dbt's to resolve) and the
    quarantine share over the run."""
    outcomes = {day: check_partition_parquet(asset_key, [path]) for day, path in written.items()}
    yield _suite_result(asset_key, SUITE_ERRORS, outcomes, errors=True)
    yield _suite_result(asset_key, SUITE_WARNINGS, outcomes, errors=False)
    landed = sum(result.landed for result in results)
    quarantined = sum(result.quarantined for result in results)
    share = quarantined / landed if landed else 0.0
    yield dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=QUARANTINE_SHARE,
        passed=share <= MAX_QUARANTINE_SHARE,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "landed": landed,
            "quarantined": quarantined,
            "share": round(share, 6),
            "threshold": MAX_QUARANTINE_SHARE,
        },
    )


def _suite_result(
    asset_key: str, check_name: str, outcomes: dict[date, SuiteOutcome], *, errors: bool
) -> dg.AssetCheckResult:
    failing = {
        day: outcome
        for day, outcome in outcomes.items()
        if not (outcome.success_errors if errors else outcome.success_warnings)
    }
    details = "\n".join(f"{day}: {outcome.describe()}" for day, outcome in failing.items())
    evaluated = next(iter(outcomes.values())).evaluated if outcomes else 0
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        metadata={
            "partitions_checked": len(outcomes),
            "partitions_failing": len(failing),
            "expectations_per_partition": evaluated,
            "details": details or "all expectations passed",
        },
        description=details or None,
    )
