"""Run the project's compiled dbt SQL on in-memory inputs, fast, in a fresh DuckDB.

The dbt project is compiled once (`dbt compile` into a temporary target path, against an empty
warehouse so every incremental model compiles in its full-refresh form; the tests' session
fixture `sql_harness` in tests/conftest.py, or benchmarks/bench_funnel.py). The
manifest gives each model's compiled SQL and its dependencies; `SqlHarness.run` then builds a
fresh in-memory database, loads the given inputs as tables under the names the compiled SQL
uses, and creates every model upstream of the targets that was not given, in dependency order.
Nothing depends on the names of the intermediate models: the DAG comes from the manifest.

Inputs are keyed by model name (`int_events_enriched`) or by source (`lake.events`,
`funnel_config.funnels`); `funnels=` compiles a FunnelSet into every `funnel_config` source.

    harness.run({"int_events_enriched": table, ...}, ["fct_funnel_journeys"], funnels=fs)

`journey_inputs(events, ...)` builds the inputs of the journey models from the same event dicts
the Python reference (`tests.reference.funnel`) consumes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.lib.funnels.model import FunnelSet
from pipelines.lib.funnels.tables import compile_funnel_tables

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
LATE_DATA_DAYS = 3  # dbt_project.yml's microfunnel__late_data_days, passed explicitly


@dataclass(frozen=True)
class Node:
    """A model or source of the manifest."""

    unique_id: str
    name: str  # model name, or "<source_name>.<table_name>" for a source
    relation_name: str  # how compiled SQL refers to it
    materialized: str  # view | table | incremental | ephemeral | source
    compiled_code: str
    depends_on: tuple[str, ...]  # unique ids of models and sources


class SqlHarness:
    """Compiled dbt project plus a runner that executes it on in-memory inputs."""

    def __init__(self, nodes: Mapping[str, Node], catalog: str) -> None:
        self.nodes = dict(nodes)  # by unique_id
        self.catalog = catalog
        self.by_name = {node.name: node for node in self.nodes.values()}
        self.last_timings: dict[str, float] = {}

    # --- compilation -------------------------------------------------------------------------

    @classmethod
    def compile(
        cls,
        work_dir: Path,
        *,
        dbt_vars: Mapping[str, Any] | None = None,
        project_dir: Path = DBT_PROJECT_DIR,
    ) -> SqlHarness:
        """`dbt compile` the project into work_dir (full-refresh form) and read the manifest."""
        work_dir = Path(work_dir)
        warehouse = work_dir / "warehouse"
        warehouse.mkdir(parents=True, exist_ok=True)
        target = work_dir / "target"
        dbt = Path(sys.executable).parent / "dbt"
        all_vars = {"microfunnel__late_data_days": LATE_DATA_DAYS, **(dbt_vars or {})}
        env = {**os.environ, "MICROFUNNEL_WAREHOUSE_DIR": str(warehouse)}
        env.pop("DBT_PROFILES_DIR", None)
        command = [
            str(dbt),
            "compile",
            "--profiles-dir",
            str(project_dir),
            "--project-dir",
            str(project_dir),
            "--target-path",
            str(target),
            "--log-path",
            str(work_dir / "logs"),
            "--vars",
            json.dumps(all_vars),
            "--no-partial-parse",
            "--quiet",
        ]
        result = subprocess.run(
            command, cwd=project_dir, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"dbt compile failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        return cls.from_manifest(manifest)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> SqlHarness:
        nodes: dict[str, Node] = {}
        catalogs = set()
        for uid, raw in manifest["nodes"].items():
            if raw["resource_type"] != "model":
                continue
            nodes[uid] = Node(
                unique_id=uid,
                name=raw["name"],
                relation_name=raw.get("relation_name") or "",
                materialized=raw["config"]["materialized"],
                compiled_code=raw.get("compiled_code") or "",
                depends_on=tuple(raw["depends_on"]["nodes"]),
            )
            if raw.get("database"):
                catalogs.add(raw["database"])
        for uid, raw in manifest["sources"].items():
            nodes[uid] = Node(
                unique_id=uid,
                name=f"{raw['source_name']}.{raw['name']}",
                relation_name=raw["relation_name"],
                materialized="source",
                compiled_code="",
                depends_on=(),
            )
        if len(catalogs) != 1:
            raise RuntimeError(f"expected one database in the manifest, got {sorted(catalogs)}")
        return cls(nodes, catalogs.pop())

    # --- running -----------------------------------------------------------------------------

    def upstream(self, targets: Iterable[str], given: Iterable[str]) -> list[Node]:
        """Nodes to build for `targets` (names), dependencies first, stopping at `given`."""
        given = set(given)
        order: list[Node] = []
        state: dict[str, str] = {}

        def visit(uid: str) -> None:
            node = self.nodes[uid]
            if node.name in given or state.get(uid) == "done":
                return
            if state.get(uid) == "visiting":
                raise RuntimeError(f"cycle in the manifest at {node.name}")
            state[uid] = "visiting"
            for dep in node.depends_on:
                if dep in self.nodes:  # ignore macros / other resource types
                    visit(dep)
            state[uid] = "done"
            order.append(node)

        for name in targets:
            if name not in self.by_name:
                raise KeyError(f"no model {name!r} in the dbt project")
            visit(self.by_name[name].unique_id)
        return order

    def _table_name(self, node: Node) -> str:
        if node.materialized == "source":
            # Sources are read from files in production; here they are ordinary tables.
            return f'"{self.catalog}"."main"."src__{node.name.replace(".", "__")}"'
        return node.relation_name

    def _sql(self, node: Node) -> str:
        sql = node.compiled_code
        for dep in node.depends_on:
            source = self.nodes.get(dep)
            if source is not None and source.materialized == "source":
                sql = sql.replace(source.relation_name, self._table_name(source))
        return sql

    def run(
        self,
        inputs: Mapping[str, Any],
        targets: Sequence[str],
        *,
        funnels: FunnelSet | None = None,
        connection: duckdb.DuckDBPyConnection | None = None,
        threads: int = 1,
    ) -> duckdb.DuckDBPyConnection:
        """A fresh DuckDB with `inputs` loaded and every model up to `targets` built.

        inputs: model or source name -> pyarrow Table / pandas DataFrame. `funnels` fills every
        `funnel_config.<table>` source from `compile_funnel_tables`. Returns the connection
        (its current catalog is the project's database, so `select * from fct_funnel_journeys`
        works). One thread: on small inputs (and a busy machine) it is the fastest.
        """
        import time

        all_inputs: dict[str, Any] = {}
        if funnels is not None:
            for name, table in compile_funnel_tables(funnels).items():
                all_inputs[f"funnel_config.{name}"] = table
        all_inputs.update(inputs)
        unknown = sorted(set(all_inputs) - set(self.by_name))
        if unknown:
            raise KeyError(f"inputs that are neither a model nor a source: {unknown}")

        con = connection or duckdb.connect(":memory:", config={"threads": threads})
        con.execute("set timezone = 'UTC'")
        con.execute(f"attach ':memory:' as \"{self.catalog}\"")
        con.execute(f'use "{self.catalog}"')
        timings: dict[str, float] = {}
        for name, data in all_inputs.items():
            node = self.by_name[name]
            started = time.perf_counter()
            alias = f"__input_{len(timings)}"
            con.register(alias, data)
            con.execute(f"create table {self._table_name(node)} as select * from {alias}")
            con.unregister(alias)
            timings[name] = time.perf_counter() - started
        for node in self.upstream(targets, all_inputs):
            if node.materialized == "source":
                raise KeyError(
                    f"source {node.name!r} is needed by {list(targets)} but was not given"
                )
            if node.materialized == "ephemeral":
                continue  # inlined as a CTE by dbt into its dependents
            kind = "view" if node.materialized == "view" else "table"
            started = time.perf_counter()
            try:
                con.execute(f"create {kind} {node.relation_name} as (\n{self._sql(node)}\n)")
            except duckdb.Error as exc:
                raise RuntimeError(f"model {node.name} failed: {exc}") from exc
            timings[node.name] = time.perf_counter() - started
        self.last_timings = timings
        return con


# --- inputs of the journey models --------------------------------------------------------------

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("source", pa.string()),
        ("event_name", pa.string()),
        ("event_at", pa.timestamp("us")),
        ("event_date", pa.date32()),
        ("anonymous_id", pa.string()),
        ("user_id", pa.string()),
        ("session_id", pa.string()),
        ("page_url", pa.string()),
        ("referrer", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("utm_content", pa.string()),
        ("utm_term", pa.string()),
        ("utm_id", pa.string()),
        ("click_id", pa.string()),
        ("click_id_type", pa.string()),
        ("engagement_time_ms", pa.int64()),
        ("value", pa.float64()),
        ("currency", pa.string()),
        ("properties", pa.string()),
        ("export_date", pa.date32()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("loaded_at", pa.timestamp("us")),
        # int_events_enriched's own columns
        ("user_key", pa.string()),
        ("platform", pa.string()),
        ("is_paid_touch", pa.bool_()),
        ("campaign_id", pa.string()),
    ]
)

AD_SPEND_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("campaign_id", pa.string()),
        ("report_date", pa.date32()),
        ("campaign_name", pa.string()),
        ("currency", pa.string()),
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),
        ("spend", pa.float64()),
        ("platform_conversions", pa.float64()),
        ("platform_conversion_value", pa.float64()),
        ("account_currency", pa.string()),
        ("account_timezone", pa.string()),
        ("spend_in_account_currency", pa.float64()),
        ("exchange_rate", pa.float64()),
        ("exchange_rate_date", pa.date32()),
    ]
)


def _properties_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def events_table(events: Iterable[Mapping[str, Any]], *, export_date: date) -> pa.Table:
    """int_events_enriched rows from reference event dicts (missing columns are null)."""
    rows = []
    for line, event in enumerate(events, start=1):
        row = {name: event.get(name) for name in EVENT_SCHEMA.names}
        row["properties"] = _properties_text(event.get("properties"))
        row["is_paid_touch"] = (
            event["is_paid_touch"]
            if event.get("is_paid_touch") is not None
            else event.get("platform") is not None
        )
        row["export_date"] = event.get("export_date") or export_date
        row["source"] = row["source"] or "ga4"
        row["source_file"] = row["source_file"] or "property-test"
        row["source_line"] = row["source_line"] or line
        row["loaded_at"] = row["loaded_at"] or datetime(2000, 1, 1)
        if row["engagement_time_ms"] is not None:
            row["engagement_time_ms"] = int(row["engagement_time_ms"])
        if row["value"] is not None:
            row["value"] = float(row["value"])
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def spend_table(spend_by_campaign_day: Mapping[tuple[str, str, date], float]) -> pa.Table:
    """int_ad_spend_daily rows from the reference's {(platform, campaign_id, day): spend}."""
    rows = [
        {
            "platform": platform,
            "campaign_id": campaign_id,
            "report_date": day,
            "campaign_name": campaign_id,
            "currency": "USD",
            "impressions": 0,
            "clicks": 0,
            "spend": float(spend),
            "platform_conversions": 0.0,
            "platform_conversion_value": 0.0,
            "account_currency": "USD",
            "account_timezone": None,
            "spend_in_account_currency": float(spend),
            "exchange_rate": 1.0,
            "exchange_rate_date": None,
        }
        for (platform, campaign_id, day), spend in spend_by_campaign_day.items()
    ]
    return pa.Table.from_pylist(rows, schema=AD_SPEND_SCHEMA)


def journey_inputs(
    events: Sequence[Mapping[str, Any]],
    *,
    as_of: date,
    spend_by_campaign_day: Mapping[tuple[str, str, date], float] | None = None,
) -> dict[str, pa.Table]:
    """Inputs of the journey marts: enriched events, the export dates (is_final), spend.

    `as_of` is the newest export day, the reference's `as_of`: every event is given that
    export_date, so `is_final` is measured against it.
    """
    table = events_table(events, export_date=as_of)
    return {
        "int_events_enriched": table,
        # Downstream of int_events_enriched, stg_lake__events is only read for the newest
        # export_date; its columns are the enriched ones minus the derived three.
        "stg_lake__events": table.drop_columns(["platform", "is_paid_touch", "campaign_id"]),
        "int_ad_spend_daily": spend_table(spend_by_campaign_day or {}),
    }


if __name__ == "__main__":  # quick manual check: python -m harness.dbt_sql
    with tempfile.TemporaryDirectory() as tmp:
        harness = SqlHarness.compile(Path(tmp))
        print(sorted(n.name for n in harness.nodes.values()))
