"""Operations: re-runs, late data, kills, an unreachable warehouse, DST days, concurrent runs.

One warehouse is shared by the module (full runs are slow: dbt startup dominates). It runs in
America/New_York over 2024-03-08 .. 2024-03-12, which holds the 23-hour day 2024-03-10, with a
1-day funnel window and a 1-day late-data allowance, so `is_final` flips inside the range:

1. `microfunnel run` 03-08 .. 03-10;
2. a killed lake write and a killed DuckDB publish leave temp files behind;
3. `microfunnel run` 03-11 .. 03-12 (the 03-12 export carries a hand-made event of 03-09);
4. a re-run of partition 03-12 with PostgreSQL unreachable (its publish fails, the rest not);
5. two whole-range runs 03-08 .. 03-12 started at the same moment.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from pipelines.lib.generator import generate_exports
from pipelines.lib.ingest import load_ga4_day, write_partition
from pipelines.lib.ingest.lake import partition_dir, read_partitions_sql
from pipelines.lib.publish import MartSpec, publish_duckdb, publish_parquet
from pipelines.lib.settings import DEFAULT_FUNNELS_FILE, ENV_PSEUDONYMIZATION_KEY

pytestmark = pytest.mark.slow

TZ = "America/New_York"
FIRST, LAST = date(2024, 3, 8), date(2024, 3, 12)
SPRING_FORWARD = date(2024, 3, 10)
LATE_COHORT, LATE_EXPORT = date(2024, 3, 9), date(2024, 3, 12)
# 2024-03-09 12:00:00.123457 EST: unique, so the hand-made event is easy to find again.
LATE_EVENT_US = 1710003600123457
LATE_USER = "987654321.1710000000"
PG_SECRET = "s3cret-pw-0042"
MARTS = (
    "fct_funnel_journeys",
    "fct_funnel_journey_stages",
    "agg_funnel_stages_daily",
    "agg_campaign_performance",
)
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]

# One random key for this test session: stable across the runs a test compares.
RUN_KEY = secrets.token_hex(32)


@dataclass
class Snapshot:
    parquet: dict[str, str]  # relative path -> sha256 of the reporting Parquet file
    tables: dict[str, list[tuple]]  # reporting DuckDB marts, all rows sorted
    journeys: list[tuple]  # (funnel_id, cohort_date, is_final, stage_1_event_id)
    hooks: dict[tuple[str, date], int]  # journeys reached stage 1 by (funnel, cohort)


@dataclass
class Warehouse:
    root: Path
    env: dict[str, str]
    runs: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    leftovers_before_run_2: list[str] = field(default_factory=list)
    reporting_after_kill: list[tuple] = field(default_factory=list)
    events_0310_before_kill: int = 0

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def reporting_db(self) -> Path:
        return self.warehouse / "reporting" / "reporting.duckdb"


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROFUNNEL_")}
    funnels = root / "funnels.yml"
    env.update(
        MICROFUNNEL_LANDING_DIR=str(root / "landing"),
        MICROFUNNEL_WAREHOUSE_DIR=str(root / "warehouse"),
        MICROFUNNEL_FUNNELS_FILE=str(funnels),
        MICROFUNNEL_TIMEZONE=TZ,
        MICROFUNNEL_START_DATE="2024-03-01",
        MICROFUNNEL_LATE_DATA_DAYS="1",
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONUNBUFFERED="1",
    )
    env[ENV_PSEUDONYMIZATION_KEY] = RUN_KEY
    env.update(extra)
    return env


def _run_command(start: date, end: date) -> list[str]:
    return [str(BIN / "microfunnel"), "run", "--start", start.isoformat(), "--end", end.isoformat()]


def _run(wh: Warehouse, start: date, end: date, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        _run_command(start, end),
        env=_env(wh.root, **extra),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _snapshot(wh: Warehouse) -> Snapshot:
    parquet_root = wh.warehouse / "reporting" / "parquet"
    parquet = {
        str(path.relative_to(parquet_root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(parquet_root.rglob("*.parquet"))
    }
    with duckdb.connect(str(wh.reporting_db), read_only=True) as con:
        tables = {t: con.execute(f"select * from {t} order by all").fetchall() for t in MARTS}
        journeys = con.execute(
            "select funnel_id, cohort_date, is_final, stage_1_event_id from fct_funnel_journeys "
            "order by all"
        ).fetchall()
        hooks = {
            (funnel, cohort): int(n)
            for funnel, cohort, n in con.execute(
                "select funnel_id, cohort_date, sum(journeys_reached) from agg_funnel_stages_daily "
                "where stage_order = 1 group by all"
            ).fetchall()
        }
    return Snapshot(parquet, tables, journeys, hooks)


def _append_late_event(landing: Path) -> None:
    """A paid hook of a new user on 2024-03-09 (local), delivered in the 2024-03-12 export."""
    template = None
    for line in (landing / "ga4" / "events_20240309.json").read_text().splitlines():
        row = json.loads(line)
        source = row.get("collected_traffic_source") or {}
        if row["event_name"] == "session_start" and source.get("manual_medium") == "cpc":
            template = row
            break
    assert template is not None, "no paid session_start to copy in the generated export"
    template.update(
        event_date="20240309",
        event_timestamp=str(LATE_EVENT_US),
        user_pseudo_id=LATE_USER,
        user_id=None,
    )
    with (landing / "ga4" / "events_20240312.json").open("a") as handle:
        handle.write(json.dumps(template) + "\n")


KILL_AT_RENAME = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date
    from pathlib import Path
    import duckdb
    from pipelines.lib.ingest import write_partition

    marker = sys.argv[3]
    real_rename = Path.rename
    def rename(self, target):
        if marker in self.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_rename(self, target)
    Path.rename = rename
    con = duckdb.connect()
    write_partition(con, "select range as i from range(1000)", Path(sys.argv[1]),
                    date.fromisoformat(sys.argv[2]))
    """
)

KILL_BEFORE_SWAP = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from pipelines.lib.dbt_project import dbt_project
    from pipelines.lib.publish.marts import published_marts
    from pipelines.lib.publish import publish_duckdb

    def replace(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace
    MARTS = published_marts(dbt_project().manifest_path)
    publish_duckdb(Path(sys.argv[1]), MARTS, Path(sys.argv[2]), None)
    """
)


def _killed(script: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, timeout=300)
    assert done.returncode == -signal.SIGKILL


def _leftovers(warehouse: Path) -> list[str]:
    names = []
    for path in warehouse.rglob("*"):
        if ".tmp" in path.name or ".old-" in path.name or path.name.startswith(".staging-"):
            names.append(str(path.relative_to(warehouse)))
    return sorted(names)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("operations")
    funnels = DEFAULT_FUNNELS_FILE.read_text().replace("window: 7d", "window: 1d")
    assert "window: 1d" in funnels
    (root / "funnels.yml").write_text(funnels)
    wh = Warehouse(root=root, env=_env(root))
    generate_exports(wh.landing, FIRST, LAST, events_per_day=800, seed=11, late_share=0.0)
    _append_late_event(wh.landing)

    wh.runs["first"] = _run(wh, FIRST, date(2024, 3, 10))
    assert wh.runs["first"].returncode == 0, wh.runs["first"].stderr[-4000:]
    wh.snapshots["first"] = _snapshot(wh)

    # A crash in the middle of ingest and of publish, on the real warehouse.
    events = wh.warehouse / "lake" / "events"
    with duckdb.connect() as con:
        wh.events_0310_before_kill = con.execute(
            f"select count(*) from {read_partitions_sql(events)} where date = ?",
            [SPRING_FORWARD],
        ).fetchone()[0]
    _killed(KILL_AT_RENAME, str(events), SPRING_FORWARD.isoformat(), ".tmp-")
    _killed(KILL_BEFORE_SWAP, str(wh.warehouse / "microfunnel.duckdb"), str(wh.reporting_db))
    wh.leftovers_before_run_2 = _leftovers(wh.warehouse)
    with duckdb.connect(str(wh.reporting_db), read_only=True) as con:
        wh.reporting_after_kill = con.execute(
            "select * from agg_funnel_stages_daily order by all"
        ).fetchall()

    wh.runs["second"] = _run(wh, date(2024, 3, 11), LAST)
    assert wh.runs["second"].returncode == 0, wh.runs["second"].stderr[-4000:]
    wh.snapshots["second"] = _snapshot(wh)

    url = f"postgresql://mf_writer:{PG_SECRET}@127.0.0.1:{_closed_port()}/mf_reporting"
    wh.runs["partition"] = _run(wh, LAST, LAST, MICROFUNNEL_POSTGRES_URL=url)
    wh.snapshots["partition"] = _snapshot(wh)

    # Two whole-range runs started together on the same warehouse.
    procs = [
        subprocess.Popen(
            _run_command(FIRST, LAST),
            env=wh.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for index, proc in enumerate(procs):
        out, err = proc.communicate(timeout=1200)
        wh.runs[f"together_{index}"] = subprocess.CompletedProcess(
            proc.args, proc.returncode, out, err
        )
    wh.snapshots["together"] = _snapshot(wh)
    return wh


def test_rerunning_a_partition_and_the_whole_range_gives_byte_identical_marts(wh: Warehouse):
    second, partition, together = (wh.snapshots[k] for k in ("second", "partition", "together"))
    assert second.parquet and len(second.parquet) >= 4 * len(MARTS)
    assert partition.parquet == second.parquet
    assert together.parquet == second.parquet
    assert partition.tables == second.tables
    assert together.tables == second.tables


def test_a_late_event_lands_in_its_own_cohort_and_is_final_flips_after_window_and_allowance(
    wh: Warehouse,
):
    with duckdb.connect() as con:
        rows = con.execute(
            f"select event_id, event_date, export_date from "
            f"{read_partitions_sql(wh.warehouse / 'lake' / 'events')} "
            "where event_at = make_timestamp(?)",
            [LATE_EVENT_US],
        ).fetchall()
    assert len(rows) == 1
    event_id, event_date, export_date = rows[0]
    assert (event_date, export_date) == (LATE_COHORT, LATE_EXPORT)

    first, second = wh.snapshots["first"], wh.snapshots["second"]
    assert event_id not in {j[3] for j in first.journeys}
    late_journeys = [j for j in second.journeys if j[3] == event_id]
    assert late_journeys and {j[1] for j in late_journeys} == {LATE_COHORT}
    for funnel in {j[0] for j in late_journeys}:
        # The late hook adds one journey to its cohort; the cohort before it is unchanged.
        assert second.hooks[(funnel, LATE_COHORT)] == first.hooks[(funnel, LATE_COHORT)] + 1
        assert second.hooks[(funnel, FIRST)] == first.hooks[(funnel, FIRST)]

    # final once cohort_date + window (1) + allowance (1) < newest export day
    def finality(snapshot: Snapshot) -> dict[date, set[bool]]:
        found: dict[date, set[bool]] = {}
        for _, cohort, is_final, _ in snapshot.journeys:
            found.setdefault(cohort, set()).add(is_final)
        return found

    def expected(snapshot: Snapshot, newest: date) -> dict[date, set[bool]]:
        return {cohort: {cohort + timedelta(days=2) < newest} for cohort in finality(snapshot)}

    assert set(finality(first)) >= {FIRST, LATE_COHORT, SPRING_FORWARD}
    assert finality(first) == expected(first, date(2024, 3, 10))
    assert finality(second) == expected(second, LAST)
    # observed flipping: open after the first run, final after the second
    assert finality(first)[LATE_COHORT] == {False} and finality(second)[LATE_COHORT] == {True}
    assert finality(second)[SPRING_FORWARD] == {False}


def test_a_killed_lake_write_and_a_killed_publish_are_cleaned_up_by_the_next_run(wh: Warehouse):
    # The kills left a temp partition, a retired day and a temp reporting file behind ...
    assert any(".tmp-" in n for n in wh.leftovers_before_run_2), wh.leftovers_before_run_2
    assert any(".old-" in n for n in wh.leftovers_before_run_2), wh.leftovers_before_run_2
    assert any(n.endswith(".tmp") for n in wh.leftovers_before_run_2), wh.leftovers_before_run_2
    # ... the old reporting file stayed complete and readable ...
    assert wh.reporting_after_kill == wh.snapshots["first"].tables["agg_funnel_stages_daily"]
    # ... and the next run completed, restored the retired day whole and removed every leftover.
    assert wh.runs["second"].returncode == 0
    assert _leftovers(wh.warehouse) == []
    with duckdb.connect() as con:
        count = con.execute(
            f"select count(*) from {read_partitions_sql(wh.warehouse / 'lake' / 'events')} "
            "where date = ?",
            [SPRING_FORWARD],
        ).fetchone()[0]
    assert count == wh.events_0310_before_kill > 0


@pytest.mark.parametrize("kill_at", ["first rename", "second rename"])
def test_a_lake_write_killed_at_any_rename_never_shows_a_partial_day(tmp_path, kill_at):
    table = tmp_path / "events"
    day = date(2024, 3, 10)
    with duckdb.connect() as con:
        write_partition(con, "select range as i from range(10)", table, day)
    # The new day is fully written to its temp folder; then the old day is retired (first
    # rename) and the new one moved in (second rename).
    marker = "date=2024-03-10" if kill_at == "first rename" else ".tmp-"
    _killed(KILL_AT_RENAME, str(table), day.isoformat(), marker)
    readable = sorted(p.name for p in table.glob("date=????-??-??"))
    assert readable in ([], ["date=2024-03-10"])
    if readable:  # what a reader sees is the complete old day
        with duckdb.connect() as con:
            assert (
                con.execute(f"select count(*) from {read_partitions_sql(table)}").fetchone()[0]
                == 10
            )
    with duckdb.connect() as con:
        assert write_partition(con, "select range as i from range(25)", table, day) == 25
        assert con.execute(f"select count(*) from {read_partitions_sql(table)}").fetchone()[0] == 25
    assert sorted(p.name for p in table.iterdir()) == [partition_dir(table, day).name]


def test_an_unreachable_postgres_fails_the_run_clearly_after_retries_and_publishes_the_rest(
    wh: Warehouse,
):
    run = wh.runs["partition"]
    output = run.stdout + run.stderr
    assert run.returncode == 1
    assert "reporting_postgres" in output
    assert "failed after 4 attempts (connection error)" in output
    assert "127.0.0.1" in output and "mf_reporting" in output
    assert PG_SECRET not in output
    # The DuckDB and Parquet publishes of the same run are complete.
    assert wh.snapshots["partition"].tables == wh.snapshots["second"].tables
    assert wh.snapshots["partition"].parquet == wh.snapshots["second"].parquet


def _ga4_line(moment: datetime, n: int) -> str:
    local = moment.astimezone(ZoneInfo(TZ))
    return json.dumps(
        {
            "event_date": local.strftime("%Y%m%d"),
            "event_timestamp": str(int(moment.timestamp() * 1_000_000)),
            "event_name": "page_view",
            "event_params": [{"key": "ga_session_id", "value": {"int_value": str(n)}}],
            "user_pseudo_id": f"{1000 + n}.1700000000",
        }
    )


@pytest.mark.parametrize(("dst_day", "hours"), [(date(2024, 3, 10), 23), (date(2024, 11, 3), 25)])
def test_the_23_and_25_hour_days_count_every_event_exactly_once(tmp_path, dst_day, hours):
    zone = ZoneInfo(TZ)
    # One event every 20 minutes from noon the day before to noon the day after (local time),
    # stepping in UTC so the repeated or skipped hour is neither doubled nor lost.
    start = datetime(dst_day.year, dst_day.month, dst_day.day, tzinfo=zone) - timedelta(hours=12)
    start = start.astimezone(UTC)
    moments = [start + timedelta(minutes=20 * n) for n in range(3 * 60)]
    by_export: dict[date, list[str]] = {}
    for n, moment in enumerate(moments):
        by_export.setdefault(moment.astimezone(zone).date(), []).append(_ga4_line(moment, n))
    counted: dict[date, int] = {}
    with duckdb.connect() as con:
        for export_day, lines in sorted(by_export.items()):
            path = tmp_path / f"events_{export_day:%Y%m%d}.json"
            path.write_text("\n".join(lines) + "\n")
            result = load_ga4_day(con, [path], export_day, TZ, datetime(2024, 12, 1))
            assert result.loaded == len(lines)
            for event_at, event_date in con.execute(
                f"select event_at, event_date from {result.table}"
            ).fetchall():
                assert event_at.replace(tzinfo=UTC).astimezone(zone).date() == event_date
                counted[event_date] = counted.get(event_date, 0) + 1
    assert sum(counted.values()) == len(moments)
    assert counted[dst_day] == hours * 3


def test_the_spring_forward_day_counts_every_event_once_through_the_pipeline(wh: Warehouse):
    zone = ZoneInfo(TZ)
    landed: set[tuple[str, str, str]] = set()
    expected_0310 = 0
    for path in sorted((wh.landing / "ga4").glob("events_*.json")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            key = (row["user_pseudo_id"], row["event_timestamp"], row["event_name"])
            if key in landed:
                continue  # a delivered duplicate
            landed.add(key)
            moment = datetime.fromtimestamp(int(row["event_timestamp"]) / 1e6, UTC)
            expected_0310 += moment.astimezone(zone).date() == SPRING_FORWARD
    with duckdb.connect() as con:
        lake = read_partitions_sql(wh.warehouse / "lake" / "events")
        rows = con.execute(
            f"select event_date, count(*), count(distinct event_id) from "
            f"(select distinct on (event_id) * from {lake}) group by 1"
        ).fetchall()
        wrong_date = con.execute(
            f"select count(*) from {lake} "
            f"where cast(timezone('{TZ}', event_at::timestamptz) as date) <> event_date"
        ).fetchone()[0]
    per_day = {day: n for day, n, _ in rows}
    assert all(n == distinct for _, n, distinct in rows)
    assert wrong_date == 0
    assert sum(per_day.values()) == len(landed)
    assert per_day[SPRING_FORWARD] == expected_0310 > 0


def test_two_runs_started_at_once_are_serialized_and_both_succeed(wh: Warehouse):
    runs = [wh.runs["together_0"], wh.runs["together_1"]]
    for run in runs:
        assert run.returncode == 0, run.stderr[-4000:]
    assert any("waiting for another microfunnel run" in run.stdout for run in runs)
    # Both DuckDB files open; the marts equal what a single run produced.
    with duckdb.connect(str(wh.warehouse / "microfunnel.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from fct_funnel_journeys").fetchone()[0] > 0
    assert wh.snapshots["together"].tables == wh.snapshots["second"].tables
    assert wh.snapshots["together"].parquet == wh.snapshots["second"].parquet
    assert not (wh.warehouse / "microfunnel.duckdb.wal").exists()


def test_the_run_lock_is_released_when_its_holder_is_killed(tmp_path):
    hold = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from pipelines.lib.run_lock import run_lock
        with run_lock(Path(sys.argv[1])):
            print("held", flush=True)
            time.sleep(600)
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        from pipelines.lib.run_lock import run_lock

        said: list[str] = []
        holder.send_signal(signal.SIGKILL)
        started = time.monotonic()
        with run_lock(tmp_path, say=said.append):
            pass
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_publishers_remove_temp_files_a_killed_publish_left_but_nothing_else(tmp_path):
    source = tmp_path / "source.duckdb"
    with duckdb.connect(str(source)) as con:
        con.execute(
            "create table m as select range::integer as id, date '2024-03-10' + "
            "cast(range % 3 as integer) as cohort_date from range(30)"
        )
    spec = MartSpec("m", "cohort_date", ("id",))
    reporting = tmp_path / "reporting"
    parquet = reporting / "parquet"
    parquet.mkdir(parents=True)
    stale = [
        reporting / ".reporting.duckdb.0123456789ab.tmp",
        reporting / ".reporting.duckdb.0123456789ab.tmp.wal",
        reporting / ".reporting.duckdb.0123456789ab.spill",
        parquet / ".staging-0123456789ab",
    ]
    kept = [reporting / "notes.tmp", reporting / ".other.duckdb.0123456789ab.tmp"]
    for path in stale[:3] + kept:
        path.write_text("half written")
    (stale[3] / "day-x").mkdir(parents=True)
    publish_duckdb(source, [spec], reporting / "reporting.duckdb", None)
    publish_parquet(source, [spec], parquet, None)
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)
    with duckdb.connect(str(reporting / "reporting.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from m").fetchone()[0] == 30
