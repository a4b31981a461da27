"""Journeys across America/New_York's daylight-saving changes (2024-03-10 and 2024-11-03).

event_at is UTC; event_date is the reporting-timezone date the pipeline computes at ingest.
Cohort dates come from the entry's local date, durations from UTC instants: a journey over the
spring-forward hour takes its real length (not the wall-clock difference).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.dbt_sql import SqlHarness, journey_inputs
from pipelines.lib.funnels.loader import parse_funnels
from tests.property.checks import MODES, PROPERTY_SETTINGS, TARGETS, check_case
from tests.property.compare import Case, fetch_rows
from tests.property.strategies import Options, funnel_sets, local_date, make_event, streams

NEW_YORK = "America/New_York"
ZONE = ZoneInfo(NEW_YORK)
# Midnight UTC of each transition day: 19:00/20:00 local the day before; the grid of the
# streams then runs over local midnight and the 02:00 (March) / 01:00-02:00 (November) change.
TRANSITIONS = {
    "spring_forward": datetime(2024, 3, 10, 0, 0),
    "fall_back": datetime(2024, 11, 3, 0, 0),
}

FUNNEL_YAML = """
funnels:
  - id: dst
    kind: micro
    window: 1d
    stages:
      - {name: hook, events: [a]}
      - {name: act, events: [b]}
      - {name: convert, events: [c]}
"""


def ny_event(user: str, event_id: str, name: str, at_utc: datetime) -> dict:
    return make_event(user, event_id, name, at_utc, 0, 0, event_date=local_date(at_utc, ZONE))


@pytest.mark.parametrize(
    ("start_utc", "convert_utc", "cohort", "seconds"),
    [
        # 01:30 EST -> 03:30 EDT: two wall-clock hours, one real hour.
        (datetime(2024, 3, 10, 6, 30), datetime(2024, 3, 10, 7, 30), date(2024, 3, 10), 3600.0),
        # 01:30 EDT -> 01:30 EST: zero wall-clock time, one real hour.
        (datetime(2024, 11, 3, 5, 30), datetime(2024, 11, 3, 6, 30), date(2024, 11, 3), 3600.0),
        # 23:30 EST on the 9th (04:30 UTC on the 10th) -> 03:15 EDT: cohort is the local day.
        (datetime(2024, 3, 10, 4, 30), datetime(2024, 3, 10, 7, 15), date(2024, 3, 9), 9900.0),
        # 23:59 EDT on Nov 2 -> 01:59 EST on Nov 3: three real hours.
        (datetime(2024, 11, 3, 3, 59), datetime(2024, 11, 3, 6, 59), date(2024, 11, 2), 10800.0),
    ],
)
def test_journey_over_a_dst_change_has_its_real_duration_and_local_cohort(
    sql_harness: SqlHarness,
    start_utc: datetime,
    convert_utc: datetime,
    cohort: date,
    seconds: float,
) -> None:
    funnel_set = parse_funnels(FUNNEL_YAML, "dst.yml")
    middle = start_utc + (convert_utc - start_utc) / 2
    events = [
        ny_event("u1", "e1", "a", start_utc),
        ny_event("u1", "e2", "b", middle),
        ny_event("u1", "e3", "c", convert_utc),
        # A second user entering one (real) hour later, never converting.
        ny_event("u2", "e4", "a", start_utc.replace(hour=start_utc.hour + 1)),
    ]
    as_of = date(2024, 12, 31)
    case = Case(FUNNEL_YAML, funnel_set, events, as_of, {})
    inputs = journey_inputs(events, as_of=as_of)
    con = sql_harness.run(inputs, TARGETS, funnels=funnel_set)
    journeys = {
        r["user_key"]: r
        for r in fetch_rows(con, "select * from fct_funnel_journeys order by user_key")
    }
    assert journeys["u1"]["cohort_date"] == cohort
    assert journeys["u1"]["seconds_to_convert"] == seconds
    assert journeys["u1"]["stage_1_seconds_to_next"] + journeys["u1"][
        "stage_2_seconds_to_next"
    ] == pytest.approx(seconds)
    reference = {j.user_key: j for j in case.reference_journeys()}
    assert reference["u1"].seconds_to_convert == seconds
    assert reference["u1"].cohort_date == cohort
    # Both journeys land on their local cohort day in the daily aggregate.
    entries = fetch_rows(
        con,
        "select cohort_date, cast(sum(journeys_reached) as bigint) as journeys "
        "from agg_funnel_stages_daily where stage_order = 1 group by cohort_date "
        "order by cohort_date",
    )
    expected = Counter(j.cohort_date for j in reference.values())
    assert {r["cohort_date"]: r["journeys"] for r in entries} == dict(expected)
    con.close()


@pytest.mark.parametrize("transition", sorted(TRANSITIONS))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_journeys_around_dst_changes_match_reference(
    transition: str,
    data: st.DataObject,
    sql_harness: SqlHarness,
    comparison_stats: Counter[str],
) -> None:
    """Random funnels of every mode and option on streams over the change, local dates."""
    base_at = TRANSITIONS[transition]
    mode = data.draw(st.sampled_from(MODES), label="mode")
    generated = data.draw(funnel_sets(mode, Options.all()), label="funnels")
    stream = data.draw(
        streams(generated.funnel_set, base_at=base_at, timezone=NEW_YORK), label="stream"
    )
    case = Case(
        generated.yaml_text, generated.funnel_set, stream.events, stream.as_of, stream.spend
    )
    check_case(case, sql_harness, comparison_stats, f"dst {transition}")
    comparison_stats[f"dst {transition}: events whose local date is not the UTC date"] += sum(
        e["event_date"] != e["event_at"].date() for e in case.events
    )
