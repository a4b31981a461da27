"""Compare the SQL marts with the Python reference, journey by journey and row by row.

A mismatch raises an AssertionError that shows the funnel YAML, the user's whole event stream
(with the stages each event matches) and both journeys, so a failure is debuggable as is.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from pipelines.lib.funnels.model import Funnel, FunnelSet
from tests.reference import funnel as funnel_reference

MAX_STAGES = 8  # var microfunnel__max_stages

# Journey tuple field -> suffix of the wide per-stage columns (stage_k_<suffix>).
PER_STAGE = {
    "reached_at": "reached_at",
    "reached_event_id": "event_id",
    "reached_event_name": "event_name",
    "seconds_to_next": "seconds_to_next",
    "engaged_seconds": "engaged_seconds",
}

# docs/funnels.md / notes: the columns fct_funnel_journeys and the reference share.
INTERFACE_SCALARS = (
    "funnel_id",
    "funnel_version",
    "journey_id",
    "user_key",
    "platform",
    "campaign_id",
    "first_touch_platform",
    "first_touch_campaign_id",
    "attribution_model",
    "cohort_date",
    "started_at",
    "ended_at",
    "deadline_at",
    "furthest_stage",
    "is_converted",
    "seconds_to_convert",
    "is_excluded",
    "excluded_by",
    "excluded_event_id",
    "dropoff_event_id",
    "dropoff_event_name",
    "dropoff_at",
    "is_stalled",
    "intent_segment",
    "intent_rule",
    "is_final",
)
INTERFACE_COLUMNS = (
    *INTERFACE_SCALARS,
    *(f"stage_{k}_{suffix}" for k in range(1, MAX_STAGES + 1) for suffix in PER_STAGE.values()),
    "furthest_stage_name",
    "stage_count",
)
ORGANIC_PLATFORM = "organic"
ORGANIC_CAMPAIGN = "(none)"


def values_equal(a: Any, b: Any) -> bool:
    """Exact for everything but floats (a tiny tolerance: SQL sums in another order)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    if isinstance(a, datetime) != isinstance(b, datetime):
        return False  # a date never equals a timestamp
    return a == b


def reference_row(journey: funnel_reference.Journey, funnel: Funnel) -> dict[str, Any]:
    """The reference journey as a fct_funnel_journeys row (wide per-stage columns)."""
    row: dict[str, Any] = {}
    for f in dataclasses.fields(journey):
        value = getattr(journey, f.name)
        if f.name in PER_STAGE:
            for k in range(1, MAX_STAGES + 1):
                row[f"stage_{k}_{PER_STAGE[f.name]}"] = value[k - 1] if k <= len(value) else None
        else:
            row[f.name] = value
    row["furthest_stage_name"] = funnel.stage(journey.furthest_stage).name
    row["stage_count"] = funnel.stage_count
    return row


def fetch_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def format_events(events: Sequence[Mapping[str, Any]], funnel_set: FunnelSet) -> str:
    """The user's events by time, with the stages of each funnel they match."""
    lines = []
    for e in sorted(events, key=lambda e: (e["event_at"], str(e["event_id"]))):
        matched = " ".join(
            f"{f.id}:{sorted(funnel_reference.matched_stages(e, f))}"
            for f in funnel_set.funnels
            if funnel_reference.matched_stages(e, f)
        )
        lines.append(
            f"  {_fmt(e['event_at'])} [{e['event_date']}] {e['event_id']} {e['event_name']}"
            f" platform={e.get('platform')} campaign={e.get('campaign_id')}"
            f" utm_campaign={e.get('utm_campaign')} medium={e.get('utm_medium')}"
            f" eng={e.get('engagement_time_ms')} value={e.get('value')}"
            f" url={e.get('page_url')} props={e.get('properties')}"
            f"  matches {matched or '-'}"
        )
    return "\n".join(lines)


def _fmt_row(row: Mapping[str, Any] | None, columns: Iterable[str]) -> str:
    if row is None:
        return "  (none)"
    return "\n".join(
        f"  {c} = {_fmt(row.get(c))}"
        for c in columns
        if row.get(c) is not None or not c.startswith("stage_")
    )


@dataclasses.dataclass
class Case:
    """One generated example: the funnels, the events and the reference's answer."""

    yaml_text: str
    funnel_set: FunnelSet
    events: list[dict[str, Any]]
    as_of: date
    spend: dict[tuple[str, str, date], float]
    late_data_days: int = 3

    def __repr__(self) -> str:  # hypothesis prints it: keep it short, the assertion has detail
        users = len({e["user_key"] for e in self.events})
        return (
            f"Case({len(self.events)} events of {users} users, as_of={self.as_of}, "
            f"funnels:\n{self.yaml_text})"
        )

    def reference_journeys(self) -> list[funnel_reference.Journey]:
        journeys = []
        for funnel in self.funnel_set.funnels:
            journeys += funnel_reference.compute_journeys(
                self.events, funnel, as_of=self.as_of, late_data_days=self.late_data_days
            )
        return journeys

    def user_events(self, user_key: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["user_key"] == user_key]


def compare_journeys(
    case: Case,
    reference: Sequence[funnel_reference.Journey],
    con: duckdb.DuckDBPyConnection,
    stats: Counter[str] | None = None,
) -> set[str]:
    """Assert fct_funnel_journeys equals the reference; returns the columns compared."""
    funnels = case.funnel_set.by_id
    expected = {j.journey_id: reference_row(j, funnels[j.funnel_id]) for j in reference}
    actual = {r["journey_id"]: r for r in fetch_rows(con, "select * from fct_funnel_journeys")}
    sql_columns = set(next(iter(actual.values()))) if actual else set(INTERFACE_COLUMNS)
    ref_columns = set(next(iter(expected.values()))) if expected else set(INTERFACE_COLUMNS)
    columns = [c for c in INTERFACE_COLUMNS if c in sql_columns and c in ref_columns]
    if stats is not None:
        stats["journeys compared"] += len(expected)
        stats["user streams compared"] += len({e["user_key"] for e in case.events})
        stats["events"] += len(case.events)
        for c in INTERFACE_COLUMNS:
            if c not in sql_columns:
                stats[f"interface column missing in fct_funnel_journeys: {c}"] = 1
            if c not in ref_columns:
                stats[f"interface column missing in the reference: {c}"] = 1

    problems: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None, list[str]]] = []
    for jid in sorted(set(expected) | set(actual)):
        ref, sql = expected.get(jid), actual.get(jid)
        if ref is None or sql is None:
            kind = "missing in SQL" if sql is None else "extra in SQL"
            problems.append((kind, jid, ref, sql, []))
            continue
        diff = [c for c in columns if not values_equal(ref[c], sql[c])]
        if diff:
            problems.append(("different", jid, ref, sql, diff))
    if not problems:
        return set(columns)

    # Show the first user with a problem in full: events and every journey on both sides.
    first = problems[0]
    user = (first[2] or first[3])["user_key"]
    lines = [
        f"{len(problems)} journey mismatches over {len({p[1] for p in problems})} journeys "
        f"(of {len(expected)} reference / {len(actual)} SQL journeys); first user {user}:",
        "funnels:",
        case.yaml_text,
        f"as_of={case.as_of} late_data_days={case.late_data_days}",
        f"events of {user}:",
        format_events(case.user_events(user), case.funnel_set),
    ]
    for kind, jid, ref, sql, diff in problems:
        if (ref or sql)["user_key"] != user:
            continue
        lines.append(f"journey {jid}: {kind}" + (f", columns differ: {diff}" if diff else ""))
        for c in diff:
            lines.append(f"  {c}: reference={_fmt(ref[c])} sql={_fmt(sql[c])}")
        lines.append(" reference:")
        lines.append(_fmt_row(ref, columns))
        lines.append(" sql:")
        lines.append(_fmt_row(sql, columns))
    others = sorted({(p[2] or p[3])["user_key"] for p in problems} - {user})
    if others:
        lines.append(f"other users with mismatches: {others[:20]}")
    raise AssertionError("\n".join(lines))


def stage_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        row["funnel_id"],
        row["cohort_date"],
        row["platform"] if row["platform"] is not None else ORGANIC_PLATFORM,
        row["campaign_id"] if row["campaign_id"] is not None else ORGANIC_CAMPAIGN,
        row["stage_order"],
    )


def compare_stage_rows(
    case: Case,
    reference: Sequence[funnel_reference.Journey],
    con: duckdb.DuckDBPyConnection,
    stats: Counter[str] | None = None,
) -> None:
    """Assert agg_funnel_stages_daily equals aggregate_stages, row by row."""
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    for funnel in case.funnel_set.funnels:
        for row in funnel_reference.aggregate_stages(reference, funnel, case.spend):
            expected[stage_key(dataclasses.asdict(row))] = dataclasses.asdict(row)
    actual = {stage_key(r): r for r in fetch_rows(con, "select * from agg_funnel_stages_daily")}
    ref_columns = {f.name for f in dataclasses.fields(funnel_reference.StageRow)}
    sql_columns = set(next(iter(actual.values()))) if actual else ref_columns
    columns = sorted((ref_columns & sql_columns) - {"platform", "campaign_id"})
    if stats is not None:
        stats["stage rows compared"] += len(expected)
    problems = []
    for key in sorted(set(expected) | set(actual), key=repr):
        ref, sql = expected.get(key), actual.get(key)
        if ref is None or sql is None:
            problems.append((key, ref, sql, ["(row)"]))
            continue
        diff = [c for c in columns if not values_equal(ref[c], sql[c])]
        if diff:
            problems.append((key, ref, sql, diff))
    if not problems:
        return
    key, ref, sql, diff = problems[0]
    funnel_id, cohort_date, platform, campaign_id, _ = key
    group = [
        j
        for j in reference
        if (j.funnel_id, j.cohort_date, j.platform or ORGANIC_PLATFORM)
        == (funnel_id, cohort_date, platform)
        and (j.campaign_id or ORGANIC_CAMPAIGN) == campaign_id
    ]
    lines = [
        f"{len(problems)} agg_funnel_stages_daily mismatches; first {key}: {diff}",
        "funnels:",
        case.yaml_text,
        f"reference: {ref}",
        f"sql:       {sql}",
        f"the group's {len(group)} reference journeys (user, furthest, excluded, seconds):",
    ]
    for j in group[:40]:
        lines.append(
            f"  {j.user_key} {j.journey_id} furthest={j.furthest_stage} "
            f"excluded={getattr(j, 'is_excluded', None)} "
            f"to_next={getattr(j, 'seconds_to_next', None)} engaged={j.engaged_seconds}"
        )
    raise AssertionError("\n".join(lines))


def reference_stage_rows(
    journeys: Sequence[funnel_reference.Journey], funnel_set: FunnelSet
) -> dict[tuple[str, int], dict[str, Any]]:
    """fct_funnel_journey_stages as the reference implies it: one row per reached stage."""
    rows = {}
    for j in journeys:
        funnel = funnel_set.by_id[j.funnel_id]
        reached = [k for k in range(1, funnel.stage_count + 1) if j.reached_at[k - 1] is not None]
        for i, k in enumerate(reached):
            following = reached[i + 1] if i + 1 < len(reached) else None
            rows[(j.journey_id, k)] = {
                "funnel_id": j.funnel_id,
                "funnel_version": j.funnel_version,
                "journey_id": j.journey_id,
                "user_key": j.user_key,
                "platform": j.platform,
                "campaign_id": j.campaign_id,
                "cohort_date": j.cohort_date,
                "stage_order": k,
                "stage_name": funnel.stage(k).name,
                "reached_at": j.reached_at[k - 1],
                "reached_event_id": j.reached_event_id[k - 1],
                "reached_event_name": j.reached_event_name[k - 1],
                "next_stage_reached_at": j.reached_at[following - 1] if following else None,
                "seconds_to_next_stage": j.seconds_to_next[k - 1],
                "engaged_seconds": j.engaged_seconds[k - 1],
                "is_excluded": j.is_excluded,
                "is_final": j.is_final,
            }
    return rows


def compare_journey_stages(
    case: Case,
    reference: Sequence[funnel_reference.Journey],
    con: duckdb.DuckDBPyConnection,
    stats: Counter[str] | None = None,
) -> None:
    """Assert fct_funnel_journey_stages has exactly the reference's reached stages."""
    expected = reference_stage_rows(reference, case.funnel_set)
    actual = {
        (r["journey_id"], r["stage_order"]): r
        for r in fetch_rows(con, "select * from fct_funnel_journey_stages")
    }
    if stats is not None:
        stats["journey stage rows compared"] += len(expected)
    columns = sorted(next(iter(expected.values())).keys()) if expected else []
    problems = []
    for key in sorted(set(expected) | set(actual)):
        ref, sql = expected.get(key), actual.get(key)
        if ref is None or sql is None:
            problems.append((key, ref, sql, ["(row)"]))
            continue
        diff = [c for c in columns if c in sql and not values_equal(ref[c], sql[c])]
        if diff:
            problems.append((key, ref, sql, diff))
    if not problems:
        return
    key, ref, sql, diff = problems[0]
    user = (ref or sql)["user_key"]
    raise AssertionError(
        "\n".join(
            [
                f"{len(problems)} fct_funnel_journey_stages mismatches; first {key}: {diff}",
                "funnels:",
                case.yaml_text,
                f"events of {user}:",
                format_events(case.user_events(user), case.funnel_set),
                f"reference: {ref}",
                f"sql:       {sql}",
            ]
        )
    )
