"""The funnel used to compare our journey SQL with ClickHouse `windowFunnel` (through chdb).

One definition serves the cross-check tests and `benchmarks/bench_funnel.py`: the funnel YAML
(five stages, two with filters, disjoint stages) and the same stage conditions written as
ClickHouse expressions over the `int_events_enriched` columns, so both engines see the same
events match the same stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pipelines.lib.funnels import FunnelSet, parse_funnels

FUNNEL_ID = "crosscheck"
WINDOW_SECONDS = 600  # `window: 10m`

# Each stage as (names matched without a filter, ClickHouse condition). The conditions are
# disjoint: an event matches at most one stage (see the test module's domain, point 2).
STAGE_CONDITIONS: tuple[str, ...] = (
    # hook: session_start / page_view of a paid touch
    "event_name in ('session_start', 'page_view') and coalesce(is_paid_touch, false)",
    "event_name in ('click', 'quiz_answer')",
    "event_name = 'video_complete'"
    " or (event_name = 'user_engagement' and coalesce(engagement_time_ms >= 10000, false))",
    "event_name = 'add_to_wishlist'",
    "event_name in ('purchase', 'sign_up')",
)
STAGE_COUNT = len(STAGE_CONDITIONS)

FUNNEL_YAML = """\
funnels:
  - id: {funnel_id}
    version: 1
    label: windowFunnel cross-check
    kind: micro
    primary: true
    mode: {mode}
    window: 10m
    stages:
      - name: hook
        events: [session_start, page_view]
        where: [{{field: is_paid_touch, op: eq, value: true}}]
      - name: first_action
        events: [click, quiz_answer]
      - name: engagement
        events:
          - video_complete
          - {{name: user_engagement, where: [{{field: engagement_time_ms, op: gte, value: 10000}}]}}
      - name: reinforcement
        events: [add_to_wishlist]
      - name: conversion
        events: [purchase, sign_up]
"""


def funnel_set(mode: str) -> FunnelSet:
    """The cross-check funnel in `mode` (ordered | strict)."""
    return parse_funnels(FUNNEL_YAML.format(funnel_id=FUNNEL_ID, mode=mode), "crosscheck.yml")


def clickhouse_level_sql(parquet: Path, mode: str, *, threads: int = 2) -> str:
    """One row per user_key with windowFunnel's level, read straight from the Parquet file.

    Conditions are cast to non-null UInt8: windowFunnel wants UInt8, and with a Nullable
    argument ClickHouse skips the whole row when any argument is NULL. In strict mode only
    events that match a stage are fed: `strict_order` stops at a row that matches no condition,
    while our strict mode ignores events that match no stage.
    """
    conditions = [f"toUInt8(coalesce({cond}, false))" for cond in STAGE_CONDITIONS]
    window_us = WINDOW_SECONDS * 1_000_000
    params = f"{window_us}, 'strict_order'" if mode == "strict" else f"{window_us}"
    where = (
        "where " + " or ".join(f"coalesce({cond}, false)" for cond in STAGE_CONDITIONS)
        if mode == "strict"
        else ""
    )
    path = str(parquet).replace("'", "''")
    return (
        "select user_key, windowFunnel("
        + params
        + ")(toUInt64(toUnixTimestamp64Micro(event_at)), "
        + ", ".join(conditions)
        + f") as level from file('{path}', Parquet) {where} group by user_key"
        + f" settings max_threads = {int(threads)}"
    )


def clickhouse_levels(parquet: Path, mode: str) -> dict[str, int]:
    """windowFunnel level per user_key (users without a stage-1 event get 0)."""
    import chdb

    frame = chdb.query(clickhouse_level_sql(parquet, mode), "DataFrame")
    return dict(zip(frame["user_key"].tolist(), (int(x) for x in frame["level"]), strict=True))


def level_histogram(levels: Mapping[str, int]) -> dict[int, int]:
    """Users per level 0..STAGE_COUNT."""
    histogram = dict.fromkeys(range(STAGE_COUNT + 1), 0)
    for level in levels.values():
        histogram[level] += 1
    return histogram
