"""Funnel file loading, validation messages and the compiled definition tables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.lib.funnels import (
    TABLE_SCHEMAS,
    Attribution,
    Funnel,
    FunnelConfigError,
    Intent,
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


# --- modes, optional stages, gaps, exclusions, attribution, intent (docs/funnels.md 1) -------

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
        where: [{field: page_url, op: not_null}]
        between: [act, convert]
      - {name: bounce, events: [session_end], between: [hook, engaged]}
    intent:
      mid_from_stage: act
      late_from_stage: reinforce
      campaigns:
        late: [brand_search, 1234]
        early: [prospecting_video]
"""


def _one(text: str) -> Funnel:
    return parse_funnels(text, source="inline.yml").funnels[0]


def _problems(text: str) -> list[str]:
    with pytest.raises(FunnelConfigError) as info:
        parse_funnels(text, source="funnels.yml")
    assert all(line.startswith("funnels.yml: ") for line in str(info.value).splitlines())
    return list(info.value.problems)


def test_every_option_is_read_into_the_model() -> None:
    f = _one(EVERY_OPTION)
    assert (f.mode, f.window, f.version) == ("strict", timedelta(minutes=90), 4)
    assert [s.optional for s in f.stages] == [False, False, True, True, False]
    assert [s.max_gap_seconds for s in f.stages] == [None, 1800, 3600, None, 4800]
    assert [f.next_required_stage(k) for k in range(1, 6)] == [2, 5, 5, 5, None]
    assert f.attribution == Attribution("stage", 3)
    support, bounce = f.exclusions
    assert (support.order, support.name, support.from_stage, support.to_stage) == (
        1,
        "support",
        2,
        5,
    )
    assert [(m.event_name, [x.op for x in m.filters]) for m in support.matchers] == [
        ("contact_support", ["not_null"]),
        ("refund", ["not_null", "gt"]),  # exclusion-level filters first
    ]
    assert (bounce.order, bounce.from_stage, bounce.to_stage, bounce.where) == (2, 1, 3, ())
    assert (f.intent_mid_from_stage, f.intent_late_from_stage) == (2, 4)
    assert dict(f.intent_campaigns) == {
        "brand_search": "late",
        "1234": "late",  # numeric ids are read as text
        "prospecting_video": "early",
    }


def test_defaults_of_the_new_keys() -> None:
    f = _one(
        "funnels:\n  - {id: f, kind: micro, stages: [{name: a, events: [x]}, "
        "{name: b, events: [y]}, {name: c, events: [z]}, {name: d, events: [w]}]}\n"
    )
    assert f.mode == "ordered"
    assert f.attribution == Attribution("first_touch", None)
    assert f.exclusions == ()
    assert f.intent == Intent()
    assert (f.intent_mid_from_stage, f.intent_late_from_stage) == (1, 3)  # max(N-1, 2)
    assert not any(s.optional or s.max_gap for s in f.stages)
    two = _one(
        "funnels:\n  - {id: f, kind: micro, stages: [{name: a, events: [x]}, "
        "{name: b, events: [y]}]}\n"
    )
    assert two.intent_late_from_stage == 2  # max(2 - 1, 2)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("attribution: last_touch", Attribution("last_touch")),
        ("attribution: first_touch", Attribution("first_touch")),
        ("attribution: {stage: c}", Attribution("stage", 3)),
    ],
)
def test_attribution_forms(option: str, expected: Attribution) -> None:
    text = f"""
funnels:
  - id: f
    kind: micro
    {option}
    stages: [{{name: a, events: [x]}}, {{name: b, events: [y]}}, {{name: c, events: [z]}}]
"""
    assert _one(text).attribution == expected


@pytest.mark.parametrize(
    ("window", "seconds"), [("7d", 604800), ("36h", 129600), ("45m", 2700), ("1m", 60)]
)
def test_durations_accept_days_hours_and_minutes(window: str, seconds: int) -> None:
    text = f"""
funnels:
  - id: f
    kind: micro
    window: {window}
    stages: [{{name: a, events: [x]}}, {{name: b, events: [y], max_gap: {window}}}]
"""
    f = _one(text)
    assert f.window_seconds == seconds
    assert f.stage(2).max_gap_seconds == seconds  # equal to the window is allowed


BASE = """
funnels:
  - id: shop
    kind: micro
    mode: {mode}
    window: 1d
    stages:
      - {{name: hook, events: [page_view]{s1}}}
      - {{name: act, events: [click]{s2}}}
      - {{name: buy, events: [purchase]{s3}}}
{extra}"""


def _base(mode: str = "ordered", s1: str = "", s2: str = "", s3: str = "", extra: str = "") -> str:
    return BASE.format(mode=mode, s1=s1, s2=s2, s3=s3, extra=extra)


@pytest.mark.parametrize(
    ("text", "path_and_detail"),
    [
        (
            _base(mode="sideways"),
            "mode: unsupported mode 'sideways' (available modes: ordered, strict, any_order)",
        ),
        (
            _base(s2=", max_gap: 30 minutes"),
            "stages[1].max_gap: invalid duration '30 minutes' (expected Nd, Nh or Nm, e.g. 30m)",
        ),
        (_base(s2=", max_gap: 0m"), "stages[1].max_gap: max_gap must be greater than zero"),
        (_base(s2=", max_gap: 30"), "stages[1].max_gap: max_gap must be a string like 30m"),
        (
            _base(s1=", max_gap: 5m"),
            "stages[0].max_gap: max_gap is not allowed on the first stage",
        ),
        (
            _base(mode="any_order", s2=", max_gap: 5m"),
            "stages[1].max_gap: max_gap is not allowed in any_order funnels",
        ),
        (_base(s2=", max_gap: 2d"), "stages[1].max_gap: max_gap '2d' exceeds the window '1d'"),
        (_base(s2=", max_gap: 1441m"), "stages[1].max_gap: max_gap '1441m' exceeds the window"),
        (_base(s1=", optional: true"), "stages[0].optional: the first stage cannot be optional"),
        (_base(s3=", optional: true"), "stages[2].optional: the last stage cannot be optional"),
        (_base(s2=", optional: 'yes'"), "stages[1].optional: optional must be true or false"),
        (
            _base(extra="    exclusions: [{name: x, events: [e], between: [buy, hook]}]\n"),
            "exclusions[0].between: the first stage must come before the second, got 'buy' "
            "(stage 3) then 'hook' (stage 1)",
        ),
        (
            _base(extra="    exclusions: [{name: x, events: [e], between: [act, act]}]\n"),
            "exclusions[0].between: between needs two different stages, got 'act' twice",
        ),
        (
            _base(extra="    exclusions: [{name: x, events: [e], between: [hook, bye]}]\n"),
            "exclusions[0].between[1]: unknown stage 'bye' (did you mean 'buy'? stages: hook, "
            "act, buy)",
        ),
        (
            _base(extra="    exclusions: [{name: x, events: [e], between: [hook]}]\n"),
            "exclusions[0].between: between must be a list of two stage names",
        ),
        (
            _base(extra="    exclusions: [{name: x, events: [e]}]\n"),
            "exclusions[0].between: missing required key 'between'",
        ),
        (
            _base(extra="    exclusions: [{name: X-1, events: [e], between: [hook, buy]}]\n"),
            "exclusions[0].name: invalid exclusion name 'X-1'",
        ),
        (
            _base(extra="    exclusions: [{name: x, events: [], between: [hook, buy]}]\n"),
            "exclusions[0].events: events must be a non-empty list",
        ),
        (
            _base(
                extra="    exclusions: [{name: x, events: [e], between: [hook, buy], "
                "where: [{field: value, op: gt, value: a}]}]\n"
            ),
            "exclusions[0].where[0].value: operator 'gt' needs a number",
        ),
        (
            _base(
                extra="    exclusions: [{name: x, events: [e], between: [hook, buy], when: 1}]\n"
            ),
            "exclusions[0].when: unknown key 'when'",
        ),
        (
            _base(
                extra="    exclusions:\n      - {name: x, events: [e], between: [hook, buy]}\n"
                "      - {name: x, events: [f], between: [hook, act]}\n"
            ),
            "exclusions[1].name: duplicate exclusion name 'x' (already used by exclusions[0])",
        ),
        (_base(extra="    exclusions: {name: x}\n"), "exclusions: exclusions must be a list"),
        (
            _base(extra="    attribution: middle_touch\n"),
            "attribution: unknown attribution 'middle_touch' (expected first_touch, last_touch "
            "or {stage: <stage name>})",
        ),
        (
            _base(extra="    attribution: stage\n"),
            "attribution: unknown attribution 'stage'",
        ),
        (
            _base(extra="    attribution: {stage: checkout}\n"),
            "attribution.stage: unknown stage 'checkout'",
        ),
        (
            _base(extra="    attribution: {stage: act, model: x}\n"),
            "attribution.model: unknown key 'model' (allowed: stage)",
        ),
        (
            _base(extra="    intent: {mid_from_stage: buy, late_from_stage: act}\n"),
            "intent.mid_from_stage: mid_from_stage (stage 3) must not come after "
            "late_from_stage (stage 2)",
        ),
        (
            # late defaults to max(3 - 1, 2) = 2
            _base(extra="    intent: {mid_from_stage: buy}\n"),
            "intent.mid_from_stage: mid_from_stage (stage 3) must not come after "
            "late_from_stage (stage 2, the default)",
        ),
        (
            _base(extra="    intent: {late_from_stage: nope}\n"),
            "intent.late_from_stage: unknown stage 'nope'",
        ),
        (
            _base(extra="    intent: {campaigns: {late: [a, b], early: [c, a]}}\n"),
            "intent.campaigns.early[1]: campaign 'a' is already listed under 'late'",
        ),
        (
            _base(extra="    intent: {campaigns: {hot: [a]}}\n"),
            "intent.campaigns.hot: unknown segment 'hot' (expected one of early, mid, late)",
        ),
        (
            _base(extra="    intent: {campaigns: {late: a}}\n"),
            "intent.campaigns.late: expected a list of campaign ids or names",
        ),
        (
            _base(extra="    intent: {campaigns: [a]}\n"),
            "intent.campaigns: intent.campaigns must be a mapping",
        ),
        (_base(extra="    intent: {early_from_stage: act}\n"), "intent.early_from_stage: unknown"),
    ],
)
def test_each_rule_of_the_new_keys_names_funnel_and_field(text: str, path_and_detail: str) -> None:
    problems = _problems(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"funnel 'shop': {path_and_detail}"), problems[0]


def test_the_new_keys_report_every_problem_at_once() -> None:
    text = """
funnels:
  - id: shop
    kind: micro
    mode: any_order
    window: 1h
    attribution: {stage: nowhere}
    stages:
      - {name: hook, events: [page_view], optional: true}
      - {name: act, events: [click], max_gap: 10m}
      - {name: buy, events: [purchase], optional: true, max_gap: soon}
    exclusions:
      - {name: x, events: [e], between: [buy, hook]}
      - {name: x, events: [e], between: [hook, act]}
    intent:
      mid_from_stage: buy
      late_from_stage: act
      campaigns: {late: [a], mid: [a]}
  - id: other
    kind: direct
    window: 2 days
    stages: [{name: a, events: [x]}, {name: b, events: [y], max_gap: 1d}]
"""
    problems = _problems(text)
    assert problems == [
        "funnel 'shop': stages[2].max_gap: invalid duration 'soon' (expected Nd, Nh or Nm, "
        "e.g. 30m)",
        "funnel 'shop': stages[0].optional: the first stage cannot be optional",
        "funnel 'shop': stages[1].max_gap: max_gap is not allowed in any_order funnels (there "
        "is no previous stage)",
        "funnel 'shop': stages[2].optional: the last stage cannot be optional",
        "funnel 'shop': stages[2].max_gap: max_gap is not allowed in any_order funnels (there "
        "is no previous stage)",
        "funnel 'shop': attribution.stage: unknown stage 'nowhere' (stages: hook, act, buy)",
        "funnel 'shop': exclusions[0].between: the first stage must come before the second, "
        "got 'buy' (stage 3) then 'hook' (stage 1)",
        "funnel 'shop': exclusions[1].name: duplicate exclusion name 'x' (already used by "
        "exclusions[0])",
        "funnel 'shop': intent.mid_from_stage: mid_from_stage (stage 3) must not come after "
        "late_from_stage (stage 2)",
        "funnel 'shop': intent.campaigns.mid[0]: campaign 'a' is already listed under 'late' "
        "(a campaign belongs to one segment)",
        "funnel 'other': window: invalid duration '2 days' (expected Nd, Nh or Nm, e.g. 7d)",
    ]


# --- numbers a careless edit produces ---------------------------------------------------------

_MINIMAL_FUNNEL = """\
funnels:
  - id: quiz
    kind: micro
    {extra}
    stages:
      - name: hook
        events: [session_start]
      - name: conversion
        events:
          - name: purchase
            where: [{{field: value, op: gt, value: {number}}}]
"""


def _problems_of(tmp_path: Path, extra: str = "", number: str = "1") -> str:
    path = tmp_path / "funnels.yml"
    path.write_text(_MINIMAL_FUNNEL.format(extra=extra, number=number))
    with pytest.raises(FunnelConfigError) as info:
        load_funnels(path)
    message = str(info.value)
    assert all(line.startswith(str(path)) for line in message.splitlines())
    return message


@pytest.mark.parametrize("window", ["99999999999999999999d", "366d", "8785h", "527041m"])
def test_a_window_longer_than_a_year_is_refused_naming_funnel_and_field(
    tmp_path: Path, window: str
) -> None:
    message = _problems_of(tmp_path, extra=f"window: {window}")
    assert f"funnel 'quiz': window: window '{window}' is too long: at most 365d" in message


def test_a_max_gap_too_long_to_represent_is_a_config_error_not_an_overflow(tmp_path: Path) -> None:
    path = tmp_path / "funnels.yml"
    path.write_text(
        _MINIMAL_FUNNEL.format(extra="", number="1").replace(
            "      - name: conversion\n",
            "      - name: conversion\n        max_gap: 99999999999999999999999h\n",
        )
    )
    with pytest.raises(FunnelConfigError, match=r"stages\[1\]\.max_gap: max_gap .* is too long"):
        load_funnels(path)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_a_filter_number_that_is_not_finite_says_so(tmp_path: Path, value: str) -> None:
    message = _problems_of(tmp_path, number=value)
    assert "stages[1].events[0].where[0].value: operator 'gt' needs a number, got" in message
    assert "(not a finite number)" in message
    assert "got number" not in message


def test_a_filter_integer_beyond_double_range_is_a_config_error(tmp_path: Path) -> None:
    message = _problems_of(tmp_path, number="1" + "0" * 400)
    assert "operator 'gt' needs a number, got an integer too large for a number" in message


@pytest.mark.parametrize(
    ("version", "shown"),
    [(".inf", "inf (not a finite number)"), ("99999999999999999999", "99999999999999999999")],
)
def test_a_version_that_does_not_fit_the_output_column_is_refused(
    tmp_path: Path, version: str, shown: str
) -> None:
    message = _problems_of(tmp_path, extra=f"version: {version}")
    assert (
        f"funnel 'quiz': version: version must be an integer >= 1 and <= 2147483647, got {shown}"
        in message
    )
