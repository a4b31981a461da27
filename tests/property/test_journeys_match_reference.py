"""fct_funnel_journeys, fct_funnel_journey_stages and agg_funnel_stages_daily equal the Python
reference, journey by journey, on thousands of generated user streams per funnel mode.

Each example is one or two random funnels (YAML through the loader) and 40-150 users' events;
the dbt SQL runs on them in a fresh DuckDB (harness/dbt_sql.py) and every interface column
of every journey is compared with `compute_journeys`, every stage row with `aggregate_stages`.
MICROFUNNEL_PROPERTY_EXAMPLES sets the examples per test (default below; CI time ~1 min per
test on a loaded 2-core machine).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.dbt_sql import SqlHarness, journey_inputs
from pipelines.lib.funnels.loader import parse_funnels
from tests.property.compare import (
    INTERFACE_COLUMNS,
    Case,
    compare_journey_stages,
    compare_journeys,
    compare_stage_rows,
    reference_row,
)
from tests.property.strategies import BASE_AT, Options, funnel_sets, make_event, streams

TARGETS = ["fct_funnel_journeys", "agg_funnel_stages_daily"]
EXAMPLES = int(os.environ.get("MICROFUNNEL_PROPERTY_EXAMPLES", "40"))

PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    print_blob=True,
)


def check_case(case: Case, harness: SqlHarness, stats: Counter[str], label: str) -> None:
    """Run the SQL on the case and compare both marts with the reference."""
    reference = case.reference_journeys()
    inputs = journey_inputs(case.events, as_of=case.as_of, spend_by_campaign_day=case.spend)
    con = harness.run(inputs, TARGETS, funnels=case.funnel_set)
    try:
        local: Counter[str] = Counter()
        compare_journeys(case, reference, con, local)
        compare_journey_stages(case, reference, con, local)
        compare_stage_rows(case, reference, con, local)
    finally:
        con.close()
    local["examples"] += 1
    local["converted journeys"] += sum(j.is_converted for j in reference)
    local["journeys with several per user"] += len(reference) - len({j.user_key for j in reference})
    # How much of the rule book the examples exercised (a silent generator would show zeros).
    local["excluded journeys"] += sum(j.is_excluded for j in reference)
    local["journeys attributed away from the entry"] += sum(
        (j.platform, j.campaign_id) != (j.first_touch_platform, j.first_touch_campaign_id)
        for j in reference
    )
    local["journeys with intent from a campaign"] += sum(
        j.intent_rule == "campaign" for j in reference
    )
    local["journeys with late intent"] += sum(j.intent_segment == "late" for j in reference)
    local["stalled journeys"] += sum(j.is_stalled for j in reference)
    local["journeys that skipped an optional stage"] += sum(
        any(at is None for at in j.reached_at[: j.furthest_stage]) for j in reference
    )
    local["final journeys"] += sum(j.is_final for j in reference)
    for key, value in local.items():
        if key.startswith("interface column missing"):
            stats[key] = 1
        else:
            stats[f"{label}: {key}"] += value


@st.composite
def cases(draw: st.DrawFn, mode: str, options: Options | None = None) -> Case:
    generated = draw(funnel_sets(mode, options))
    stream = draw(streams(generated.funnel_set))
    return Case(
        yaml_text=generated.yaml_text,
        funnel_set=generated.funnel_set,
        events=stream.events,
        as_of=stream.as_of,
        spend=stream.spend,
    )


MODES = ["ordered", "strict", "any_order"]


@pytest.mark.parametrize("mode", MODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_journeys_match_reference(
    mode: str, data: st.DataObject, sql_harness: SqlHarness, comparison_stats: Counter[str]
) -> None:
    """Stages with filters, campaigns and windows; no optional parts."""
    case = data.draw(cases(mode), label="case")
    check_case(case, sql_harness, comparison_stats, mode)


@pytest.mark.parametrize("mode", MODES)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_journeys_with_every_option_match_reference(
    mode: str, data: st.DataObject, sql_harness: SqlHarness, comparison_stats: Counter[str]
) -> None:
    """max_gap, optional stages, exclusions, attribution models and intent overrides."""
    case = data.draw(cases(mode, Options.all()), label="case")
    check_case(case, sql_harness, comparison_stats, f"{mode} + options")


def test_every_interface_column_is_on_both_sides(sql_harness: SqlHarness) -> None:
    """The comparisons above check the columns both sides have: none may silently go missing."""
    funnel_set = parse_funnels(
        "funnels:\n  - id: f1\n    kind: micro\n    stages:\n"
        "      - {name: s1, events: [a]}\n      - {name: s2, events: [b]}\n",
        "interface.yml",
    )
    events = [make_event("u1", f"e{i}", name, BASE_AT, 2, 0) for i, name in enumerate("ab")]
    case = Case("", funnel_set, events, BASE_AT.date(), {})
    reference = case.reference_journeys()
    con = sql_harness.run(journey_inputs(events, as_of=case.as_of), TARGETS, funnels=funnel_set)
    sql_columns = {d[0] for d in con.execute("select * from fct_funnel_journeys").description}
    con.close()
    ref_columns = set(reference_row(reference[0], funnel_set.funnels[0]))
    assert set(INTERFACE_COLUMNS) - sql_columns == set()
    assert set(INTERFACE_COLUMNS) - ref_columns == set()
