"""Materialization metadata every ingestion asset reports: files, rows, reconciliation."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from pipelines.lib.ingest import IngestResult
from pipelines.lib.privacy import erased_rows


def ingest_metadata(results: list[IngestResult], rows_kind: str) -> dict[str, dg.RawMetadataValue]:
    dates = [r.min_date for r in results if r.min_date] + [
        r.max_date for r in results if r.max_date
    ]
    rows = sum(getattr(r, rows_kind) for r in results)
    return {
        "dagster/row_count": rows,
        "files_read": sum(r.files_read for r in results),
        "rows_landed": sum(r.landed for r in results),
        "rows_loaded": sum(r.loaded for r in results),
        "rows_quarantined": sum(r.quarantined for r in results),
        # Rows of users on the erasure list: dropped, so landed = loaded + quarantined + erased.
        "erased_rows": sum(erased_rows(r) for r in results),
        "dates": f"{min(dates)} .. {max(dates)}" if dates else "none",
        "per_file": dg.MetadataValue.md(_per_file_table(results)),
        # Truncated/corrupt compressed or unreadable files: one quarantine row each.
        "files_quarantined_whole": dg.MetadataValue.json(
            [
                {"file": name, "reason": reason}
                for r in results
                for name, reason in r.unreadable_files
            ]
        ),
        "warnings": dg.MetadataValue.json([w for r in results for w in r.warnings]),
    }


def _per_file_table(results: list[IngestResult]) -> str:
    lines = ["| file | landed | loaded | quarantined |", "|---|---:|---:|---:|"]
    for result in results:
        lines += [
            f"| {f.source_file} | {f.landed} | {f.loaded} | {f.quarantined} |" for f in result.files
        ]
    return "\n".join(lines)


def log_result_warnings(log: dg.DagsterLogManager, results: Iterable[IngestResult]) -> None:
    """Files quarantined whole and the adapters' warnings, as warnings in the run's log."""
    for result in results:
        for name, reason in result.unreadable_files:
            log.warning(f"{result.source}: {name}: {reason}")
        for warning in result.warnings:
            log.warning(f"{result.source}: {warning}")
