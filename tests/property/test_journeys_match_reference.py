"""fct_funnel_journeys, fct_funnel_journey_stages and agg_funnel_stages_daily equal the Python
reference, journey by journey, on thousands of generated user streams per funnel mode.

Each example is one or two random funnels (YAML through the loader) and 40-150 users' events;
the dbt SQL runs on them in a fresh DuckDB (harness/dbt_sql.py) and every interface column
of every journey is compared with `compute_journeys`, every stage row with `aggregate_stages`.
MICROFUNNEL_PROPERTY_EXAMPLES sets the examples per test (default in checks.py; CI time ~1 min per
test on a loaded 2-core machine).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.dbt_sql import SqlHarness, journey_inputs
from pipelines.lib.funnels.loader import parse_funnels
from tests.property.checks import MODES, PROPERTY_SETTINGS, TARGETS, check_case
from tests.property.compare import (
    INTERFACE_COLUMNS,
    Case,
    reference_row,
)
from tests.property.strategies import BASE_AT, Options, funnel_sets, make_event, streams


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
