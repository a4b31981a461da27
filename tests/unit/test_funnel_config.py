"""Funnel file loading, validation messages and the compiled definition tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lib.funnels import (
    TABLE_SCHEMAS,
    FunnelConfigError,
    compile_funnel_tables,
    load_funnels,
    parse_funnels,
    write_funnel_tables,
)
from pipelines.lib.settings import DEFAULT_FUNNELS_FILE

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "funnels"


def _error_for(name: str) -> FunnelConfigError:
    with pytest.raises(FunnelConfigError) as info:
        load_funnels(FIXTURES / name)
    return info.value


# --- the default file ------------------------------------------------------------------------


def test_default_file_loads_two_funnels_with_micro_commitment_primary() -> None:
    funnel_set = load_funnels(DEFAULT_FUNNELS_FILE)
    assert [f.id for f in funnel_set.funnels] == ["micro_commitment", "direct_ask"]
    assert funnel_set.primary.id == "micro_commitment"
    assert [f.stage_count for f in funnel_set.funnels] == [5, 2]
    assert funnel_set.max_stages == 5
    assert set(funnel_set.by_id) == {"micro_commitment", "direct_ask"}


def test_default_micro_funnel_has_the_five_framework_stages_and_a_seven_day_window() -> None:
    micro = load_funnels(DEFAULT_FUNNELS_FILE).by_id["micro_commitment"]
    assert [s.name for s in micro.stages] == [
        "hook",
        "first_action",
        "engagement",
        "reinforcement",
        "conversion",
    ]
    assert micro.kind == "micro"
    assert micro.mode == "ordered"
    assert micro.window == timedelta(days=7)
    assert micro.window_seconds == 604800
    assert micro.version == 2
    assert micro.campaigns == ("spring_quiz_micro", "webinar_video_micro", "pricing_tour_micro")


def test_stage_level_filters_are_copied_into_every_matcher_of_the_stage() -> None:
    hook = load_funnels(DEFAULT_FUNNELS_FILE).by_id["micro_commitment"].stage(1)
    matchers = hook.matchers
    assert [m.event_name for m in matchers] == ["session_start", "page_view"]
    for matcher in matchers:
        assert [(f.field, f.op, f.value_text) for f in matcher.filters] == [
            ("is_paid_touch", "eq", "true")
        ]


def test_first_funnel_is_primary_when_none_is_marked() -> None:
    funnel_set = parse_funnels(
        """
funnels:
  - {id: a, kind: micro, stages: [{name: s1, events: [x]}, {name: s2, events: [y]}]}
  - {id: b, kind: direct, stages: [{name: s1, events: [x]}, {name: s2, events: [y]}]}
""",
        source="inline.yml",
    )
    assert funnel_set.primary.id == "a"
    assert [f.is_primary for f in funnel_set.funnels] == [True, False]


def test_full_featured_file_normalises_values_campaigns_and_defaults() -> None:
    funnel_set = load_funnels(FIXTURES / "valid_full.yml")
    quiz = funnel_set.by_id["quiz_funnel"]
    direct = funnel_set.by_id["direct"]
    assert funnel_set.primary is direct
    assert quiz.version == 1
    assert quiz.window == timedelta(hours=36)
    assert quiz.window_days == 2
    assert quiz.campaigns == ("1234567890", "spring_sale", "42")
    assert direct.label == "direct"
    assert direct.version == 3
    landing_filters = quiz.stage(1).where
    assert landing_filters[1].value_list == ("gclid", "fbclid")
    quiz_answer = quiz.stage(2).matchers[0].filters[0]
    assert (quiz_answer.param_key, quiz_answer.op, quiz_answer.value_number) == (
        "question_no",
        "gte",
        2.0,
    )


# --- invalid files: every message names the file, the funnel and the field -------------------


@pytest.mark.parametrize(
    ("fixture", "funnel", "field_path", "detail"),
    [
        (
            "bad_op.yml",
            "funnel 'micro_commitment'",
            "stages[2].events[0].where[0].op",
            "unknown operator 'gtee'",
        ),
        (
            "unknown_field.yml",
            "funnel 'micro_commitment'",
            "stages[0].where[0].field",
            "unknown field 'utm_medum' (did you mean 'utm_medium'?",
        ),
        (
            "duplicate_stage.yml",
            "funnel 'micro_commitment'",
            "stages[2].name",
            "duplicate stage name 'engagement'",
        ),
        ("one_stage.yml", "funnel 'lonely'", "stages", "at least 2 stages, got 1"),
        (
            "bad_window.yml",
            "funnel 'micro_commitment'",
            "window",
            "invalid duration '7 days' (expected Nd, Nh or Nm",
        ),
        ("zero_window.yml", "funnel 'micro_commitment'", "window", "greater than zero"),
        (
            "two_primaries.yml",
            "funnel 'direct_ask'",
            "primary",
            "only one funnel may be primary (funnel 'micro_commitment'",
        ),
        ("unknown_key.yml", "funnel 'micro_commitment'", "windw", "did you mean 'window'?"),
    ],
)
def test_invalid_file_message_names_file_funnel_and_field(
    fixture: str, funnel: str, field_path: str, detail: str
) -> None:
    error = _error_for(fixture)
    path = str(FIXTURES / fixture)
    assert str(error).startswith(f"{path}: {funnel}: {field_path}: ")
    assert detail in str(error)
    assert len(error.problems) == 1


def test_yaml_syntax_error_names_file_and_line() -> None:
    error = _error_for("syntax_error.yml")
    message = str(error)
    assert message.startswith(f"{FIXTURES / 'syntax_error.yml'}: line 7, column 13:")
    assert "YAML syntax error" in message
    assert "on line 6" in message  # where the unclosed list began


def test_duplicate_yaml_key_is_an_error_with_both_lines() -> None:
    message = str(_error_for("duplicate_key.yml"))
    assert "line 5" in message
    assert "duplicate key 'window' (first given on line 4)" in message


def test_all_problems_of_a_file_are_reported_together() -> None:
    error = _error_for("many_errors.yml")
    assert len(error.problems) == 7
    lines = str(error).splitlines()
    assert lines[0].endswith("7 problems in funnel file:")
    assert all(line.startswith(str(FIXTURES / "many_errors.yml")) for line in lines)
    joined = "\n".join(error.problems)
    # A funnel whose id is invalid is named by its index.
    assert "funnels[0]: id: invalid funnel id 'Bad-Id'" in joined
    assert "funnels[0]: stages[0].events: events must be a non-empty list" in joined
    assert "funnel 'second': kind: unknown kind 'sideways'" in joined
    assert "funnel 'second': version: version must be an integer >= 1" in joined
    assert "funnel 'second': stages[0].where[0].op: operator 'gt' compares numbers" in joined
    assert "funnel 'second': stages[1].where[0].field: invalid parameter key 'bad-key'" in joined
    assert "funnel 'second': stages[1].where[0].value: operator 'is_null' takes no value" in joined


@pytest.mark.parametrize(
    ("filter_yaml", "path_and_detail"),
    [
        ("{field: value, op: gt, value: ten}", "where[0].value: operator 'gt' needs a number"),
        ("{field: page_url, op: in, value: /a}", "where[0].value: operator 'in' needs a non-empty"),
        ("{field: page_url, op: eq}", "where[0].value: operator 'eq' needs a value"),
        ("{field: page_url, op: eq, value: null}", "where[0].value: value must not be null"),
        ("{field: value, op: contains, value: x}", "where[0].op: operator 'contains' needs a text"),
        ("{op: eq, value: x}", "where[0].field: missing required key 'field'"),
        ("{field: page_url, op: eq, value: x, extra: 1}", "where[0].extra: unknown key 'extra'"),
    ],
)
def test_filter_values_are_checked_against_the_operator(
    filter_yaml: str, path_and_detail: str
) -> None:
    text = f"""
funnels:
  - id: f
    kind: micro
    stages:
      - {{name: s1, events: [x], where: [{filter_yaml}]}}
      - {{name: s2, events: [y]}}
"""
    with pytest.raises(FunnelConfigError) as info:
        parse_funnels(text, source="inline.yml")
    assert f"inline.yml: funnel 'f': stages[0].{path_and_detail}" in str(info.value)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "expected a mapping with a top-level 'funnels' list, got an empty file"),
        ("funnels: []", "funnels: expected a non-empty list of funnels, got an empty list"),
        ("funnel: []", "funnel: unknown key 'funnel' (did you mean 'funnels'?"),
    ],
)
def test_file_level_shape_errors(text: str, detail: str) -> None:
    with pytest.raises(FunnelConfigError) as info:
        parse_funnels(text, source="inline.yml")
    assert detail in str(info.value)


def test_duplicate_funnel_ids_are_rejected() -> None:
    text = """
funnels:
  - {id: a, kind: micro, stages: [{name: s1, events: [x]}, {name: s2, events: [y]}]}
  - {id: a, kind: direct, stages: [{name: s1, events: [x]}, {name: s2, events: [y]}]}
"""
    with pytest.raises(FunnelConfigError, match=r"funnel 'a': id: duplicate funnel id 'a'"):
        parse_funnels(text, source="inline.yml")


def test_missing_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(FunnelConfigError, match=r"nope\.yml: file not found"):
        load_funnels(tmp_path / "nope.yml")


# --- tables ----------------------------------------------------------------------------------


def test_default_file_compiles_to_the_expected_tables() -> None:
    tables = compile_funnel_tables(load_funnels(DEFAULT_FUNNELS_FILE))
    assert {name: t.schema for name, t in tables.items()} == TABLE_SCHEMAS

    funnels = tables["funnels"].to_pylist()
    assert [
        (r["funnel_id"], r["funnel_kind"], r["is_primary"], r["stage_count"]) for r in funnels
    ] == [
        ("micro_commitment", "micro", True, 5),
        ("direct_ask", "direct", False, 2),
    ]
    assert {r["window_seconds"] for r in funnels} == {7 * 86400}
    assert {r["mode"] for r in funnels} == {"ordered"}

    stages = [
        (r["funnel_id"], r["stage_order"], r["stage_name"])
        for r in tables["funnel_stages"].to_pylist()
    ]
    assert stages == [
        ("micro_commitment", 1, "hook"),
        ("micro_commitment", 2, "first_action"),
        ("micro_commitment", 3, "engagement"),
        ("micro_commitment", 4, "reinforcement"),
        ("micro_commitment", 5, "conversion"),
        ("direct_ask", 1, "hook"),
        ("direct_ask", 2, "conversion"),
    ]

    matchers = tables["funnel_stage_matchers"].to_pylist()
    micro = [r for r in matchers if r["funnel_id"] == "micro_commitment"]
    assert [
        (r["stage_order"], r["matcher_id"], r["event_name"], r["filter_count"]) for r in micro
    ] == [
        (1, 1, "session_start", 1),
        (1, 2, "page_view", 1),
        (2, 1, "click", 0),
        (2, 2, "quiz_answer", 0),
        (2, 3, "select_content", 0),
        (2, 4, "scroll", 0),
        (3, 1, "video_complete", 0),
        (3, 2, "view_item", 0),
        (3, 3, "user_engagement", 1),
        (4, 1, "view_item_list", 0),
        (4, 2, "add_to_wishlist", 0),
        (4, 3, "page_view", 1),
        (5, 1, "purchase", 0),
        (5, 2, "sign_up", 0),
        (5, 3, "generate_lead", 0),
    ]
    assert len(matchers) == 20

    filters = tables["funnel_stage_filters"].to_pylist()
    assert len(filters) == 6  # is_paid_touch x 2 per funnel hook, engaged time, pricing page
    engaged = next(r for r in filters if r["field"] == "engagement_time_ms")
    assert engaged == {
        "funnel_id": "micro_commitment",
        "stage_order": 3,
        "matcher_id": 3,
        "filter_index": 1,
        "field": "engagement_time_ms",
        "param_key": None,
        "op": "gte",
        "value_text": None,
        "value_number": 10000.0,
        "value_list": None,
    }
    pricing = next(r for r in filters if r["op"] == "contains")
    assert (pricing["stage_order"], pricing["matcher_id"], pricing["value_text"]) == (
        4,
        3,
        "/pricing",
    )
    paid = [r for r in filters if r["field"] == "is_paid_touch"]
    assert {(r["funnel_id"], r["stage_order"], r["value_text"]) for r in paid} == {
        ("micro_commitment", 1, "true"),
        ("direct_ask", 1, "true"),
    }
    assert [(r["funnel_id"], r["campaign"]) for r in tables["funnel_campaigns"].to_pylist()] == [
        ("micro_commitment", "spring_quiz_micro"),
        ("micro_commitment", "webinar_video_micro"),
        ("micro_commitment", "pricing_tour_micro"),
        ("direct_ask", "free_trial_direct"),
        ("direct_ask", "summer_sale_direct"),
        ("direct_ask", "demo_request_direct"),
    ]


def test_param_filters_lists_and_campaigns_reach_the_tables() -> None:
    tables = compile_funnel_tables(load_funnels(FIXTURES / "valid_full.yml"))
    filters = [
        r for r in tables["funnel_stage_filters"].to_pylist() if r["funnel_id"] == "quiz_funnel"
    ]
    by_key = {(r["stage_order"], r["matcher_id"], r["filter_index"]): r for r in filters}
    assert by_key[(1, 1, 2)]["value_list"] == ["gclid", "fbclid"]
    assert by_key[(2, 1, 1)]["param_key"] == "question_no"
    assert by_key[(2, 1, 1)]["field"] == "param.question_no"
    assert by_key[(2, 2, 1)]["op"] == "not_null"
    assert by_key[(2, 2, 1)]["value_text"] is None
    assert [r["campaign"] for r in tables["funnel_campaigns"].to_pylist()] == [
        "1234567890",
        "spring_sale",
        "42",
    ]


def test_write_funnel_tables_writes_one_parquet_per_table_and_replaces_it(tmp_path: Path) -> None:
    funnel_set = load_funnels(DEFAULT_FUNNELS_FILE)
    counts = write_funnel_tables(funnel_set, tmp_path / "defs")
    assert counts == {
        "funnels": 2,
        "funnel_stages": 7,
        "funnel_stage_matchers": 20,
        "funnel_stage_filters": 6,
        "funnel_campaigns": 6,
        "funnel_exclusions": 0,
        "funnel_exclusion_matchers": 0,
        "funnel_exclusion_filters": 0,
        "funnel_intent_campaigns": 0,
    }
    # Writing again replaces the files and leaves no temporary files behind.
    assert write_funnel_tables(funnel_set, tmp_path / "defs") == counts
    files = sorted(p.name for p in (tmp_path / "defs").iterdir())
    assert files == sorted(f"{name}.parquet" for name in counts)
    for name, count in counts.items():
        table = pq.read_table(tmp_path / "defs" / f"{name}.parquet")
        assert table.num_rows == count
        assert table.schema.names == TABLE_SCHEMAS[name].names


def test_numeric_eq_and_ne_carry_both_text_and_number() -> None:
    stage = (
        parse_funnels(
            """
funnels:
  - id: f
    kind: micro
    stages:
      - name: s1
        events: [x]
        where:
          - {field: value, op: eq, value: 10}
          - {field: utm_medium, op: ne, value: cpc}
          - {field: is_paid_touch, op: eq, value: true}
      - {name: s2, events: [y]}
""",
            source="inline.yml",
        )
        .funnels[0]
        .stage(1)
    )
    assert [(f.value_text, f.value_number) for f in stage.where] == [
        ("10", 10.0),
        ("cpc", None),
        ("true", None),  # booleans are not numbers
    ]
