"""Materialization metadata about what was delivered: duplicates, schema drift, empty days."""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.lib.ingest import IngestResult
from pipelines.lib.ingest.deliveries import DeliveryPlan
from pipelines.lib.ingest.drift import SchemaDrift


def delivery_metadata(
    plans: list[DeliveryPlan], results: list[IngestResult], empty_days: list[date]
) -> dict[str, dg.RawMetadataValue]:
    duplicates = [
        {"file": d.source_file, "same_content_as": d.first_seen_file, "sha256": d.sha256}
        for plan in plans
        for d in plan.duplicates
    ]
    drift = SchemaDrift.combine(r.drift for r in results)
    return {
        "duplicate_files": dg.MetadataValue.json(duplicates),
        "files_skipped": len(duplicates),
        "params_seen": dg.MetadataValue.json(list(drift.params_seen)),
        "new_params": dg.MetadataValue.json(list(drift.new_params)),
        "new_fields": dg.MetadataValue.json(list(drift.new_fields)),
        "extra_columns": dg.MetadataValue.json(list(drift.extra_columns)),
        "empty_day": bool(empty_days),
        "empty_days": dg.MetadataValue.json([d.isoformat() for d in empty_days]),
    }
