"""The definition tables of docs/funnels.md section 5 for a funnel that uses every option."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.lib.funnels import (
    TABLE_SCHEMAS,
    compile_funnel_tables,
    parse_funnels,
    write_funnel_tables,
)

EVERY_OPTION = """
funnels:
  - id: every_option
    version: 4
    kind: micro
    mode: strict
    window: 90m
    attribution: {stage: engaged}
    stages:
      - {name: hook, events: [page_view]}
      - {name: act, events: [click], max_gap: 30m}
      - {name: engaged, events: [view_item], optional: true, max_gap: 1h}
      - {name: reinforce, events: [view_item_list], optional: true}
      - {name: convert, events: [purchase], max_gap: 80m}
    exclusions:
      - name: support
        events: [contact_support, {name: refund, where: [{field: value, op: gt, value: 0}]}]
        where: [{field: param.topic, op: in, value: [billing, 7]}]
        between: [act, convert]
      - {name: bounce, events: [session_end], between: [hook, engaged]}
    intent:
      mid_from_stage: act
      late_from_stage: reinforce
      campaigns:
        late: [brand_search, 1234]
        early: [prospecting_video]
  - id: plain
    kind: direct
    mode: any_order
    attribution: last_touch
    stages: [{name: a, events: [x]}, {name: b, events: [y]}]
"""

# The columns docs/funnels.md section 5 lists, in order.
SECTION_5_COLUMNS = {
    "funnels": [
        "funnel_id",
        "funnel_version",
        "funnel_kind",
        "label",
        "mode",
        "window_seconds",
        "window_days",
        "is_primary",
        "stage_count",
        "attribution_model",
        "attribution_stage_order",
        "intent_mid_from_stage",
        "intent_late_from_stage",
    ],
    "funnel_stages": [
        "funnel_id",
        "stage_order",
        "stage_name",
        "is_optional",
        "max_gap_seconds",
        "next_required_stage",
    ],
    "funnel_stage_matchers": [
        "funnel_id",
        "stage_order",
        "matcher_id",
        "event_name",
        "filter_count",
    ],
    "funnel_stage_filters": [
        "funnel_id",
        "stage_order",
        "matcher_id",
        "filter_index",
        "field",
        "param_key",
        "op",
        "value_text",
        "value_number",
        "value_list",
    ],
    "funnel_campaigns": ["funnel_id", "campaign"],
    "funnel_exclusions": [
        "funnel_id",
        "exclusion_order",
        "exclusion_name",
        "from_stage_order",
        "to_stage_order",
    ],
    "funnel_exclusion_matchers": [
        "funnel_id",
        "exclusion_order",
        "matcher_id",
        "event_name",
        "filter_count",
    ],
    "funnel_exclusion_filters": [
        "funnel_id",
        "exclusion_order",
        "matcher_id",
        "filter_index",
        "field",
        "param_key",
        "op",
        "value_text",
        "value_number",
        "value_list",
    ],
    "funnel_intent_campaigns": ["funnel_id", "campaign", "intent_segment"],
}


def _tables() -> dict[str, pa.Table]:
    return compile_funnel_tables(parse_funnels(EVERY_OPTION, source="inline.yml"))


def test_every_table_of_section_5_with_its_columns_in_order() -> None:
    tables = _tables()
    assert {name: t.schema.names for name, t in tables.items()} == SECTION_5_COLUMNS
    assert {name: t.schema for name, t in tables.items()} == TABLE_SCHEMAS


def test_funnel_rows_carry_mode_attribution_and_resolved_intent_thresholds() -> None:
    rows = {r["funnel_id"]: r for r in _tables()["funnels"].to_pylist()}
    assert rows["every_option"] == {
        "funnel_id": "every_option",
        "funnel_version": 4,
        "funnel_kind": "micro",
        "label": "every_option",
        "mode": "strict",
        "window_seconds": 5400,
        "window_days": 1,
        "is_primary": True,
        "stage_count": 5,
        "attribution_model": "stage",
        "attribution_stage_order": 3,
        "intent_mid_from_stage": 2,
        "intent_late_from_stage": 4,
    }
    plain = rows["plain"]
    assert (plain["mode"], plain["attribution_model"], plain["attribution_stage_order"]) == (
        "any_order",
        "last_touch",
        None,
    )
    # Defaults: mid from stage 1, late from max(N - 1, 2) = 2 for two stages.
    assert (plain["intent_mid_from_stage"], plain["intent_late_from_stage"]) == (1, 2)


def test_stage_rows_carry_optional_gap_and_next_required_stage() -> None:
    stages = [
        (r["stage_order"], r["is_optional"], r["max_gap_seconds"], r["next_required_stage"])
        for r in _tables()["funnel_stages"].to_pylist()
        if r["funnel_id"] == "every_option"
    ]
    assert stages == [
        (1, False, None, 2),
        (2, False, 1800, 5),  # r(2) skips the two optional stages
        (3, True, 3600, 5),
        (4, True, None, 5),
        (5, False, 4800, None),
    ]


def test_exclusions_their_matchers_and_filters() -> None:
    tables = _tables()
    assert tables["funnel_exclusions"].to_pylist() == [
        {
            "funnel_id": "every_option",
            "exclusion_order": 1,
            "exclusion_name": "support",
            "from_stage_order": 2,
            "to_stage_order": 5,
        },
        {
            "funnel_id": "every_option",
            "exclusion_order": 2,
            "exclusion_name": "bounce",
            "from_stage_order": 1,
            "to_stage_order": 3,
        },
    ]
    matchers = [
        (r["exclusion_order"], r["matcher_id"], r["event_name"], r["filter_count"])
        for r in tables["funnel_exclusion_matchers"].to_pylist()
    ]
    assert matchers == [(1, 1, "contact_support", 1), (1, 2, "refund", 2), (2, 1, "session_end", 0)]
    filters = tables["funnel_exclusion_filters"].to_pylist()
    assert [
        (r["exclusion_order"], r["matcher_id"], r["filter_index"], r["field"], r["op"])
        for r in filters
    ] == [
        (1, 1, 1, "param.topic", "in"),  # the exclusion-level filter is copied into each entry
        (1, 2, 1, "param.topic", "in"),
        (1, 2, 2, "value", "gt"),
    ]
    assert filters[0]["param_key"] == "topic"
    assert filters[0]["value_list"] == ["billing", "7"]
    assert (filters[2]["value_number"], filters[2]["value_text"]) == (0.0, None)


def test_intent_campaigns_keep_file_order_and_read_numbers_as_text() -> None:
    assert [
        (r["funnel_id"], r["campaign"], r["intent_segment"])
        for r in _tables()["funnel_intent_campaigns"].to_pylist()
    ] == [
        ("every_option", "brand_search", "late"),
        ("every_option", "1234", "late"),
        ("every_option", "prospecting_video", "early"),
    ]


def test_empty_tables_keep_their_schema_in_parquet(tmp_path: Path) -> None:
    plain_only = parse_funnels(
        "funnels:\n  - {id: p, kind: micro, stages: [{name: a, events: [x]}, "
        "{name: b, events: [y]}]}\n"
    )
    counts = write_funnel_tables(plain_only, tmp_path)
    for name in (
        "funnel_stage_filters",
        "funnel_campaigns",
        "funnel_exclusions",
        "funnel_exclusion_matchers",
        "funnel_exclusion_filters",
        "funnel_intent_campaigns",
    ):
        assert counts[name] == 0
        assert pq.read_table(tmp_path / f"{name}.parquet").schema == TABLE_SCHEMAS[name]
    # DuckDB (what dbt reads them with) sees the typed columns of an empty file.
    types = duckdb.sql(
        f"describe select * from read_parquet('{tmp_path / 'funnel_exclusion_filters.parquet'}')"
    ).fetchall()
    assert {row[0]: row[1] for row in types}["value_list"] == "VARCHAR[]"
