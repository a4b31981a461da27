"""Time the events suite on a 1M-row canonical partition: GX on pandas frames, and both engines.

Run: .venv/bin/python benchmarks/bench_quality.py [rows]
Prints the one-off GX import + context cost separately from the steady-state validation, then
checks the same Parquet partition with each engine (`check_partition_parquet`, as the ingest
assets do) in a fresh process each: seconds from a cold start and peak RSS (VmHWM), and the
ratio GX / DuckDB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

# Runnable as a plain script from a fresh checkout, like the other benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.lib.quality import validate_frame
from pipelines.lib.quality.checks import check_partition_parquet
from pipelines.lib.schemas import EVENTS_COLUMNS, select_list

EVENTS_SQL = """
select
    'ev-' || i as event_id,
    'ga4' as source,
    ['session_start', 'page_view', 'scroll', 'view_item', 'purchase'][1 + i % 5] as event_name,
    timestamp '2024-03-01' + to_microseconds(i * 80_000) as event_at,
    date '2024-03-01' as event_date,
    'user-' || (i // 20) as user_key,
    'anon-' || (i // 20) as anonymous_id,
    case when i % 7 = 0 then 'u' || (i // 20) end as user_id,
    case when i % 10 <> 0 then 'sess-' || (i // 8) end as session_id,
    'https://shop.example/p/' || (i % 500) as page_url,
    'https://www.google.com/' as referrer,
    'google' as utm_source, 'cpc' as utm_medium, 'spring_sale' as utm_campaign,
    null as utm_content, null as utm_term, null as utm_id,
    case when i % 20 = 0 then 'Cj0KCQ' || i end as click_id,
    case when i % 20 = 0 then 'gclid' end as click_id_type,
    case when i % 3 = 0 then null else (i % 30_000) end as engagement_time_ms,
    case when i % 5 = 4 then 49.9 end as value,
    case when i % 5 = 4 then 'EUR' end as currency,
    '{"ga_session_number": 1}' as properties,
    date '2024-03-01' as export_date,
    'events_20240301.json.gz' as source_file,
    i as source_line,
    timestamp '2024-03-02 03:00:00' as loaded_at
from range($rows) t(i)
"""


def main(rows: int = 1_000_000) -> None:
    sql = f"select {select_list(EVENTS_COLUMNS)} from ({EVENTS_SQL.replace('$rows', str(rows))})"
    with duckdb.connect() as con:
        rel = con.sql(sql)
        t0 = time.perf_counter()
        frame = rel.df()
        print(f"build {rows:,} rows via duckdb .df(): {time.perf_counter() - t0:.2f}s")
        arrow_frame = rel.to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype)
        with tempfile.TemporaryDirectory() as tmp:
            parquet = Path(tmp) / "part-0.parquet"
            rel.write_parquet(str(parquet))
            _time(
                "warm-up (GX import + context + suite), 1k rows",
                validate_frame,
                "events",
                frame.head(1000),
            )
            _time(
                f"validate_frame, {rows:,} rows, duckdb .df() dtypes",
                validate_frame,
                "events",
                frame,
            )
            _time(
                f"validate_frame, {rows:,} rows, ArrowDtype", validate_frame, "events", arrow_frame
            )
            _time(
                f"check_partition_parquet, {rows:,} rows (read + validate), engine gx",
                check_partition_parquet,
                "events",
                [parquet],
                "gx",
            )
            _time(
                f"check_partition_parquet, {rows:,} rows, engine duckdb",
                check_partition_parquet,
                "events",
                [parquet],
                "duckdb",
            )
            cold = {engine: _cold(engine, parquet) for engine in ("duckdb", "gx")}
    print()
    print(f"Fresh process per engine, {rows:,} rows (imports included)")
    for engine, figures in cold.items():
        print(f"  {engine:6}  {figures['seconds']:6.2f}s  peak RSS {figures['peak_mb']:,.0f} MB")
    print(
        f"  gx / duckdb: {cold['gx']['seconds'] / cold['duckdb']['seconds']:.1f}x the time, "
        f"{cold['gx']['peak_mb'] / cold['duckdb']['peak_mb']:.1f}x the memory"
    )


def _cold(engine: str, parquet: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--_engine", engine, str(parquet)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _engine_worker(engine: str, parquet: str) -> None:
    t0 = time.perf_counter()
    outcome = check_partition_parquet("events", [Path(parquet)], engine=engine)
    seconds = time.perf_counter() - t0
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    assert outcome.evaluated > 0
    print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024}))


def _time(label: str, fn, name: str, data, engine: str | None = None) -> None:
    t0 = time.perf_counter()
    outcome = fn(name, data) if engine is None else fn(name, data, engine=engine)
    elapsed = time.perf_counter() - t0
    status = "ok" if outcome.success_errors else "ERRORS"
    print(f"{label}: {elapsed:.2f}s [{status}, {len(outcome.failed)} failed]")
    for line in outcome.describe().splitlines():
        print(f"    {line}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_engine":
        _engine_worker(sys.argv[2], sys.argv[3])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
