"""What the property tests share: the marts compared, the hypothesis settings
(MICROFUNNEL_PROPERTY_EXAMPLES examples per test), the funnel modes, and `check_case`, which runs
the dbt SQL on one case and compares it with the Python reference."""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

from harness.dbt_sql import SqlHarness, journey_inputs
from tests.property.compare import (
    Case,
    compare_journey_stages,
    compare_journeys,
    compare_stage_rows,
)

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


MODES = ["ordered", "strict", "any_order"]
