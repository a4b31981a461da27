"""Compile a FunnelSet to Arrow tables, so stage definitions reach dbt as data, not SQL text.

Tables (one Parquet file each; docs/funnels.md section 5):
- funnels: one row per funnel, with its mode, window, attribution rule and the intent stage
  thresholds (defaults already applied).
- funnel_stages: one row per funnel and stage (stage_order 1..N), with is_optional,
  max_gap_seconds and next_required_stage (r(k), null for the last stage).
- funnel_stage_matchers: one row per `events` entry of a stage (matcher_id 1..M per stage).
  A stage matches an event when any of its matchers does.
- funnel_stage_filters: the AND-ed filters of each matcher; stage-level filters are copied into
  every matcher of the stage (filter_index 1..K per matcher, stage-level filters first).
- funnel_campaigns: the campaigns (ids or names) whose stage-1 events may start a journey;
  no rows for a funnel means every campaign and organic traffic.
- funnel_exclusions: one row per exclusion (exclusion_order 1..), with its from / to stages;
  funnel_exclusion_matchers / funnel_exclusion_filters are its matchers and filters, shaped
  like the stage ones with exclusion_order in place of stage_order.
- funnel_intent_campaigns: campaign (id or name) -> intent segment overrides.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.funnels.model import FunnelSet, Matcher


def _matchers_schema(owner_key: str) -> pa.Schema:
    """One row per `events` entry of a stage or an exclusion (matcher_id 1..M per owner)."""
    return pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field(owner_key, pa.int64(), nullable=False),
            pa.field("matcher_id", pa.int64(), nullable=False),
            pa.field("event_name", pa.string(), nullable=False),
            pa.field("filter_count", pa.int64(), nullable=False),
        ]
    )


def _filters_schema(owner_key: str) -> pa.Schema:
    """The AND-ed filters of each matcher (filter_index 1..K, owner-level filters first)."""
    return pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field(owner_key, pa.int64(), nullable=False),
            pa.field("matcher_id", pa.int64(), nullable=False),
            pa.field("filter_index", pa.int64(), nullable=False),
            pa.field("field", pa.string(), nullable=False),  # as written, e.g. param.quiz_id
            pa.field("param_key", pa.string()),  # null unless field is param.<key>
            pa.field("op", pa.string(), nullable=False),
            pa.field("value_text", pa.string()),  # eq, ne, contains
            # gt, gte, lt, lte; also eq / ne with a numeric value (then compared as numbers)
            pa.field("value_number", pa.float64()),
            pa.field("value_list", pa.list_(pa.string())),  # in, not_in
        ]
    )


TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "funnels": pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field("funnel_version", pa.int64(), nullable=False),
            pa.field("funnel_kind", pa.string(), nullable=False),
            pa.field("label", pa.string(), nullable=False),
            pa.field("mode", pa.string(), nullable=False),
            pa.field("window_seconds", pa.int64(), nullable=False),
            # ceil(window in days): the cohort is final after cohort_date + window_days + late
            pa.field("window_days", pa.int64(), nullable=False),
            pa.field("is_primary", pa.bool_(), nullable=False),
            pa.field("stage_count", pa.int64(), nullable=False),
            pa.field(
                "attribution_model", pa.string(), nullable=False
            ),  # first_touch|last_touch|stage
            pa.field(
                "attribution_stage_order", pa.int64()
            ),  # null unless attribution_model = stage
            pa.field("intent_mid_from_stage", pa.int64(), nullable=False),
            pa.field("intent_late_from_stage", pa.int64(), nullable=False),
        ]
    ),
    "funnel_stages": pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field("stage_order", pa.int64(), nullable=False),
            pa.field("stage_name", pa.string(), nullable=False),
            pa.field("is_optional", pa.bool_(), nullable=False),
            pa.field("max_gap_seconds", pa.int64()),  # null = no gap limit
            pa.field("next_required_stage", pa.int64()),  # r(k); null for the last stage
        ]
    ),
    "funnel_stage_matchers": _matchers_schema("stage_order"),
    "funnel_stage_filters": _filters_schema("stage_order"),
    "funnel_campaigns": pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field("campaign", pa.string(), nullable=False),
        ]
    ),
    "funnel_exclusions": pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field("exclusion_order", pa.int64(), nullable=False),
            pa.field("exclusion_name", pa.string(), nullable=False),
            pa.field("from_stage_order", pa.int64(), nullable=False),
            pa.field("to_stage_order", pa.int64(), nullable=False),
        ]
    ),
    "funnel_exclusion_matchers": _matchers_schema("exclusion_order"),
    "funnel_exclusion_filters": _filters_schema("exclusion_order"),
    "funnel_intent_campaigns": pa.schema(
        [
            pa.field("funnel_id", pa.string(), nullable=False),
            pa.field("campaign", pa.string(), nullable=False),
            pa.field("intent_segment", pa.string(), nullable=False),  # early | mid | late
        ]
    ),
}


def _matcher_rows(
    key: dict[str, Any],
    matchers: tuple[Matcher, ...],
    rows: dict[str, list[dict[str, Any]]],
    prefix: str,
) -> None:
    """Append `matchers` (of a stage or an exclusion) to <prefix>_matchers / <prefix>_filters."""
    for matcher in matchers:
        matcher_key = {**key, "matcher_id": matcher.matcher_id}
        rows[f"{prefix}_matchers"].append(
            {**matcher_key, "event_name": matcher.event_name, "filter_count": len(matcher.filters)}
        )
        for index, flt in enumerate(matcher.filters, start=1):
            rows[f"{prefix}_filters"].append(
                {
                    **matcher_key,
                    "filter_index": index,
                    "field": flt.field,
                    "param_key": flt.param_key,
                    "op": flt.op,
                    "value_text": flt.value_text,
                    "value_number": flt.value_number,
                    "value_list": list(flt.value_list) if flt.value_list is not None else None,
                }
            )


def funnel_table_rows(funnel_set: FunnelSet) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table, as plain dicts (handy for tests and debugging)."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_SCHEMAS}
    for funnel in funnel_set.funnels:
        rows["funnels"].append(
            {
                "funnel_id": funnel.id,
                "funnel_version": funnel.version,
                "funnel_kind": funnel.kind,
                "label": funnel.label,
                "mode": funnel.mode,
                "window_seconds": funnel.window_seconds,
                "window_days": funnel.window_days,
                "is_primary": funnel.is_primary,
                "stage_count": funnel.stage_count,
                "attribution_model": funnel.attribution.model,
                "attribution_stage_order": funnel.attribution.stage,
                "intent_mid_from_stage": funnel.intent_mid_from_stage,
                "intent_late_from_stage": funnel.intent_late_from_stage,
            }
        )
        for campaign in funnel.campaigns:
            rows["funnel_campaigns"].append({"funnel_id": funnel.id, "campaign": campaign})
        for stage in funnel.stages:
            rows["funnel_stages"].append(
                {
                    "funnel_id": funnel.id,
                    "stage_order": stage.order,
                    "stage_name": stage.name,
                    "is_optional": stage.optional,
                    "max_gap_seconds": stage.max_gap_seconds,
                    "next_required_stage": funnel.next_required_stage(stage.order),
                }
            )
            key = {"funnel_id": funnel.id, "stage_order": stage.order}
            _matcher_rows(key, stage.matchers, rows, "funnel_stage")
        for exclusion in funnel.exclusions:
            rows["funnel_exclusions"].append(
                {
                    "funnel_id": funnel.id,
                    "exclusion_order": exclusion.order,
                    "exclusion_name": exclusion.name,
                    "from_stage_order": exclusion.from_stage,
                    "to_stage_order": exclusion.to_stage,
                }
            )
            key = {"funnel_id": funnel.id, "exclusion_order": exclusion.order}
            _matcher_rows(key, exclusion.matchers, rows, "funnel_exclusion")
        for campaign, segment in funnel.intent.campaigns:
            rows["funnel_intent_campaigns"].append(
                {"funnel_id": funnel.id, "campaign": campaign, "intent_segment": segment}
            )
    return rows


def compile_funnel_tables(funnel_set: FunnelSet) -> dict[str, pa.Table]:
    """One Arrow table per name in TABLE_SCHEMAS (empty tables keep their schema)."""
    return {
        name: pa.Table.from_pylist(table_rows, schema=TABLE_SCHEMAS[name])
        for name, table_rows in funnel_table_rows(funnel_set).items()
    }


def write_funnel_tables(funnel_set: FunnelSet, out_dir: Path) -> dict[str, int]:
    """Write out_dir/<table>.parquet for every table; return row counts by table.

    Each file is written to a temporary name in the same folder and renamed over the old one,
    so a reader never sees a half-written file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, table in compile_funnel_tables(funnel_set).items():
        final = out_dir / f"{name}.parquet"
        tmp = out_dir / f".{name}.parquet.{uuid.uuid4().hex}.tmp"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        counts[name] = table.num_rows
    return counts
