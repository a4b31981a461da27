"""Checks every ingestion asset runs on the partitions it just wrote."""


from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipelines.lib.ingest import IngestResult
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
    asset_key: str, written: list[Path], results: list[IngestResult]
) -> Iterator[dg.AssetCheckResult]:
    """GX on the written partitions (one frame for the range) and the quarantine share."""
    outcome = check_partition_parquet(asset_key, written)
    yield dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=SUITE_ERRORS,
        passed=outcome.success_errors,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={**outcome.to_metadata(), "details": outcome.describe()},
        description=None if outcome.success_errors else outcome.describe(),
    )
    yield dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=SUITE_WARNINGS,
        passed=outcome.success_warnings,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**outcome.to_metadata(), "details": outcome.describe()},
    )
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
