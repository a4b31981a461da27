"""Funnel step throughput: our journey SQL against ClickHouse windowFunnel on the same Parquet.

Run: .venv/bin/python benchmarks/bench_funnel.py [--events N] [--modes ordered,strict]
     [--repeat R] [--threads T] [--profile] [--keep DIR]

Generates N events (default 1,000,000; about 10 per user) for the cross-check funnel of
harness/windowfunnel.py (five stages, filters on two) with DuckDB, written once as
Parquet with the columns of int_events_enriched. Then, per mode:

- ours: the compiled SQL of every model between int_events_enriched and fct_funnel_journeys
  that depends on the events (matching, sequence, walk, chaining), executed in one DuckDB
  process with `int_events_enriched` a view over the Parquet file. The funnel definition models
  (a few rows) are built first and not timed; dbt itself is not run (`dbt compile` happens once,
  timed apart);
- chdb: `windowFunnel(window[, 'strict_order'])` per user_key straight from the same file;
- events, seconds, events/s, and the ratio ours / chdb (goal: <= 1.5);
- agreement: per user, our deepest furthest_stage against the windowFunnel level.

Best of R runs (default 3) for each figure, same thread count for both engines (default 2).
Baselines in the same process: DuckDB and chdb scanning the columns both engines read.
`--profile` prints DuckDB's EXPLAIN ANALYZE of each of our models (slowest operators first).

The data puts each user's events inside one window (10 minutes), so the ordered-mode
comparison is inside the domain of tests/crosscheck/test_windowfunnel.py and must agree for
every user. It does not satisfy the strict-mode domain (stages repeat before the walk stops),
so some strict-mode users differ by design; the script prints how many.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from harness.dbt_sql import EVENT_SCHEMA, SqlHarness  # noqa: E402
from harness.windowfunnel import (  # noqa: E402
    FUNNEL_ID,
    STAGE_COUNT,
    WINDOW_SECONDS,
    clickhouse_level_sql,
    funnel_set,
)

EVENTS_MODEL = "int_events_enriched"
TARGET = "fct_funnel_journeys"
EVENTS_PER_USER = 10
DAYS = 28

# (event_name, is_paid_touch, engagement_time_ms, weight): what a user does in a session.
EVENT_MIX = [
    ("session_start", True, None, 8),  # stage 1 (paid touch)
    ("page_view", True, None, 8),
    ("page_view", False, None, 14),  # noise: organic
    ("session_start", False, None, 4),
    ("scroll", False, None, 10),
    ("click", False, None, 12),  # stage 2
    ("quiz_answer", False, None, 4),
    ("video_complete", False, None, 6),  # stage 3
    ("user_engagement", False, 15000, 6),
    ("user_engagement", False, 4000, 8),  # noise: below the filter
    ("add_to_wishlist", False, None, 8),  # stage 4
    ("purchase", False, None, 4),  # stage 5
    ("sign_up", False, None, 4),
]

DUCKDB_TYPES = {
    pa.string(): "varchar",
    pa.timestamp("us"): "timestamp",
    pa.date32(): "date",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
}


def generate(parquet: Path, events: int, threads: int) -> float:
    """N events as int_events_enriched rows, set-based (hash-derived, so reproducible)."""
    users = max(1, events // EVENTS_PER_USER)
    mix = [spec for spec in EVENT_MIX for _ in range(spec[3])]
    names = ", ".join(f"'{name}'" for name, *_ in mix)
    paid = ", ".join("true" if p else "false" for _, p, *_ in mix)
    engagement = ", ".join("null" if e is None else str(e) for _, _, e, _ in mix)
    generated = {
        "event_id": "printf('e%010d', i)",
        "event_name": f"[{names}][1 + pick]",
        "event_at": "session_at + to_microseconds(cast(h3 % span_us as bigint))",
        "event_date": "cast(session_at as date)",
        "anonymous_id": "user_key",
        "user_key": "user_key",
        "session_id": "user_key",
        "engagement_time_ms": f"[{engagement}][1 + pick]",
        "is_paid_touch": f"[{paid}][1 + pick]",
        "platform": f"case when [{paid}][1 + pick] then 'google_ads' end",
        "campaign_id": f"case when [{paid}][1 + pick] then 'c-1' end",
        "source": "'ga4'",
        "export_date": "cast(session_at as date) + 1",
        "source_file": "'bench'",
        "source_line": "i",
        "loaded_at": "timestamp '2024-02-01'",
    }
    columns = ",\n".join(
        f"cast({generated.get(f.name, 'null')} as {DUCKDB_TYPES[f.type]}) as {f.name}"
        for f in EVENT_SCHEMA
    )
    span_us = WINDOW_SECONDS * 1_000_000  # a user's events fit in one window (see docstring)
    sql = f"""
        copy (
            with base as (
                select
                    i,
                    'u' || lpad(cast(h1 % {users} as varchar), 8, '0') as user_key,
                    cast(h2 % {len(mix)} as integer) as pick,
                    h3,
                    {span_us} as span_us
                from range({events}) as r (i),
                    -- chained hashes: independent draws (hash(i, 'x') ones are correlated)
                    lateral (select hash(i) as h1),
                    lateral (select hash(h1) as h2),
                    lateral (select hash(h2) as h3)
            ),
            sessions as (
                select
                    *,
                    timestamp '2024-01-01'
                    + to_microseconds(
                        cast(hash(user_key, 's') % {DAYS * 86400 * 1_000_000} as bigint)
                    ) as session_at
                from base
            )
            select {columns} from sessions order by event_at
        ) to '{parquet}' (format parquet, row_group_size 122880)
    """
    started = time.perf_counter()
    with duckdb.connect(config={"threads": threads}) as con:
        con.execute(sql)
    return time.perf_counter() - started


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


class OurFunnelStep:
    """Our models from the events to fct_funnel_journeys, compiled once, run on the Parquet."""

    def __init__(self, harness: SqlHarness, parquet: Path, threads: int) -> None:
        self.harness = harness
        self.parquet = parquet
        self.threads = threads
        plan = harness.upstream([TARGET], given=[EVENTS_MODEL, "stg_lake__events"])
        event_models = {EVENTS_MODEL, "stg_lake__events"}
        self.config_models: list[str] = []
        self.step_models = []
        for node in plan:
            deps = {harness.nodes[d].name for d in node.depends_on if d in harness.nodes}
            if deps & event_models:
                event_models.add(node.name)
                self.step_models.append(node)
            else:
                self.config_models.append(node.name)
        for node in self.step_models:
            sources = [d for d in node.depends_on if harness.nodes[d].materialized == "source"]
            if sources:
                raise RuntimeError(f"{node.name} reads sources directly: {sources}")

    def connect(self, mode: str) -> duckdb.DuckDBPyConnection:
        """A DuckDB with the funnel definition models built and the events as Parquet views."""
        con = self.harness.run(
            {},
            self.config_models,
            funnels=funnel_set(mode),
            connection=duckdb.connect(":memory:", config={"threads": self.threads}),
        )
        events = self.harness.by_name[EVENTS_MODEL].relation_name
        lake = self.harness.by_name["stg_lake__events"].relation_name
        path = str(self.parquet).replace("'", "''")
        con.execute(f"create view {events} as select * from read_parquet('{path}')")
        lake_columns = ", ".join(
            f.name
            for f in EVENT_SCHEMA
            if f.name not in ("platform", "is_paid_touch", "campaign_id")
        )
        con.execute(f"create view {lake} as select {lake_columns} from read_parquet('{path}')")
        return con

    def run(self, con: duckdb.DuckDBPyConnection) -> dict[str, float]:
        timings = {}
        for node in self.step_models:
            if node.materialized == "ephemeral":
                continue
            kind = "view" if node.materialized == "view" else "table"
            con.execute(f"drop {kind} if exists {node.relation_name}")
            started = time.perf_counter()
            con.execute(f"create {kind} {node.relation_name} as (\n{node.compiled_code}\n)")
            timings[node.name] = time.perf_counter() - started
        return timings

    def profile(self, con: duckdb.DuckDBPyConnection, out_dir: Path, top: int = 6) -> None:
        """EXPLAIN ANALYZE of each model (upstream tables already built): slowest operators.

        The same profile as EXPLAIN ANALYZE, read from DuckDB's JSON profiling output; the
        text trees are written next to it for reading.
        """
        for node in self.step_models:
            if node.materialized == "ephemeral":
                continue
            json_path = out_dir / f"profile_{node.name}.json"
            con.execute("set enable_profiling = 'json'")
            con.execute(f"set profiling_output = '{json_path}'")
            con.execute(node.compiled_code).fetchall()
            con.execute("set enable_profiling = 'no_output'")
            con.execute("reset profiling_output")
            tree = json.loads(json_path.read_text(encoding="utf-8"))
            text = con.execute(f"explain analyze {node.compiled_code}").fetchall()[0][1]
            (out_dir / f"explain_analyze_{node.name}.txt").write_text(text, encoding="utf-8")
            operators = sorted(_operators(tree), key=lambda op: -op[0])
            # operator_timing adds up the threads' time, so shares are of the operators' sum
            busy = sum(op[0] for op in operators)
            print(
                f"\n  EXPLAIN ANALYZE {node.name}: {tree.get('latency', 0.0):.3f} s wall,"
                f" {busy:.3f} s in operators (all threads)"
            )
            for seconds, name, rows, info in operators[:top]:
                share = 100 * seconds / busy if busy else 0
                print(f"    {seconds:7.3f} s {share:5.1f}%  {name:<24} {rows:>12,} rows  {info}")


def _operators(node: dict) -> list[tuple[float, str, int, str]]:
    """(seconds, operator, output rows, short detail) for every operator of a profile tree."""
    found = []
    if node.get("operator_name"):
        extra = node.get("extra_info") or {}
        detail = "; ".join(
            f"{key}: {str(value)[:60]}"
            for key, value in extra.items()
            if key in ("Join Type", "Conditions", "Groups", "Partitions", "Table", "Function")
        )
        found.append(
            (
                float(node.get("operator_timing") or 0.0),
                node["operator_name"],
                int(node.get("operator_cardinality") or 0),
                detail.replace("\n", " ")[:110],
            )
        )
    for child in node.get("children", []):
        found.extend(_operators(child))
    return found


def our_levels_sql() -> str:
    return (
        "select user_key, max(furthest_stage) as level from fct_funnel_journeys"
        f" where funnel_id = '{FUNNEL_ID}' group by user_key"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--modes", default="ordered,strict")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", type=Path, help="folder for the Parquet and the compile")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=REPO / "dbt_project",
        help="dbt project to compile (e.g. an exported older commit, to compare versions)",
    )
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    import chdb

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_funnel_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        parquet = work / "events.parquet"
        seconds = generate(parquet, args.events, args.threads)
        size_mb = parquet.stat().st_size / 1e6
        print(f"generated {args.events:,} events in {seconds:.1f} s ({size_mb:.1f} MB Parquet)")

        started = time.perf_counter()
        harness = SqlHarness.compile(work / "compile", project_dir=args.project_dir)
        print(f"dbt compile (once, not in the figures): {time.perf_counter() - started:.1f} s")
        step = OurFunnelStep(harness, parquet, args.threads)
        print("our funnel step models:", ", ".join(n.name for n in step.step_models))

        n = args.events
        path = str(parquet).replace("'", "''")
        results: list[tuple[str, float]] = []

        def report(label: str, seconds: float) -> None:
            results.append((label, seconds))
            print(f"  {label:<34} {n:>11,} events {seconds:8.3f} s {n / seconds:>13,.0f} ev/s")

        print(f"\nthreads={args.threads}, best of {args.repeat}")
        scan = (
            "select count(*), count(distinct user_key), min(event_at), max(event_at),"
            " count(*) filter (where event_name = 'purchase'), max(engagement_time_ms),"
            " count(*) filter (where is_paid_touch)"
        )
        with duckdb.connect(config={"threads": args.threads}) as con:
            report(
                "baseline: DuckDB scan",
                best_of(
                    args.repeat,
                    lambda: con.execute(f"{scan} from read_parquet('{path}')").fetchall(),
                )[0],
            )
        chdb.query("select 1", "CSV")  # start-up of the embedded server, not in the figures
        ch_scan = (
            "select count(), uniqExact(user_key), min(event_at), max(event_at),"
            " countIf(event_name = 'purchase'), max(engagement_time_ms), countIf(is_paid_touch)"
            f" from file('{path}', Parquet) settings max_threads = {args.threads}"
        )
        report("baseline: chdb scan", best_of(args.repeat, lambda: chdb.query(ch_scan, "CSV"))[0])

        for mode in modes:
            print(f"\nmode {mode}")
            con = step.connect(mode)
            best_total, best_timings = float("inf"), {}
            for _ in range(args.repeat):
                timings = step.run(con)
                if sum(timings.values()) < best_total:
                    best_total, best_timings = sum(timings.values()), timings
            for name, secs in best_timings.items():
                print(f"    {name:<32} {secs:8.3f} s")
            report(f"ours ({mode})", best_total)
            ours = con.execute(our_levels_sql()).df()
            sql = clickhouse_level_sql(parquet, mode, threads=args.threads)
            ch_seconds, clickhouse = best_of(
                args.repeat, lambda sql=sql: chdb.query(sql, "DataFrame")
            )
            report(f"chdb windowFunnel ({mode})", ch_seconds)
            print(f"  ratio ours / chdb: {best_total / ch_seconds:.2f}x (goal <= 1.5x)")
            compare(con, ours, clickhouse, mode)
            if args.profile:
                step.profile(con, work)
            con.close()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def compare(con: duckdb.DuckDBPyConnection, ours: object, clickhouse: object, mode: str) -> None:
    """Per user: our deepest furthest_stage against windowFunnel's level (0: no journey)."""
    con.register("ours_levels", ours)
    con.register("ch_levels", clickhouse)
    rows = con.execute(
        """
        with joined as (
            select
                coalesce(o.level, 0) as ours,
                coalesce(cast(c.level as integer), 0) as ch
            from ours_levels as o
            full join ch_levels as c using (user_key)
        )
        select
            count(*) as users,
            count(*) filter (where ours = ch) as agree,
            histogram(ours) as ours_histogram,
            histogram(ch) as ch_histogram
        from joined
        """
    ).fetchone()
    users, agree, ours_hist, ch_hist = rows
    print(f"  agreement: {agree:,} of {users:,} users ({100 * agree / max(users, 1):.2f}%)")
    print("  level  ours       chdb")
    for level in range(STAGE_COUNT + 1):
        print(f"  {level:>5}  {ours_hist.get(level, 0):>9,}  {ch_hist.get(level, 0):>9,}")
    if mode == "strict" and agree != users:
        print(
            "  (strict: users differ where a stage repeats before our strict walk stops;"
            " outside the domain of tests/crosscheck/test_windowfunnel.py, point 10)"
        )
    con.unregister("ours_levels")
    con.unregister("ch_levels")


if __name__ == "__main__":
    main()
