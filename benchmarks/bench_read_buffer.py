"""Peak memory of reading one GA4 export's lines: the line reader's buffer vs DuckDB's default.

Run: .venv/bin/python benchmarks/bench_read_buffer.py [events]

Generates one day of N events (default 1,000,000) and reads its lines the way the ingest does
(`read_csv` of whole lines, max_line_size = MAX_LINE_BYTES), once with DuckDB's default buffer
(16 x max_line_size) and once with READ_BUFFER_BYTES. Each read runs in a fresh process and its
peak RSS is that process's VmHWM (ru_maxrss would not do: Linux keeps it across exec, so a child
of this process would start at the size it had when it forked). It prints seconds, peak RSS and
the ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.lib.generator import ga4_path, generate_exports  # noqa: E402
from pipelines.lib.ingest.lines import MAX_LINE_BYTES, READ_BUFFER_BYTES  # noqa: E402

DAY = date(2024, 1, 1)

# One read in a fresh interpreter: prints {"rows", "seconds", "rss_mb"} as JSON.
READ = """
import json, sys, time
import duckdb
path, max_line, buffer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
extra = f", buffer_size = {buffer}" if buffer != "default" else ""
con = duckdb.connect(config={"threads": 2})
started = time.perf_counter()
rows = con.sql(
    f"select count(*) from read_csv('{path}', columns = {{'line': 'VARCHAR'}}, header = false, "
    f"auto_detect = false, delim = '\\x1f\\x1e\\x1d', quote = '', escape = '', "
    f"strict_mode = false, max_line_size = {max_line}{extra})"
).fetchone()[0]
seconds = time.perf_counter() - started
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
rss = hwm_kb / 1024
print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": rss}))
"""


def read(path: Path, buffer: str) -> dict[str, float]:
    args = [sys.executable, "-c", READ, str(path), str(MAX_LINE_BYTES), buffer]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench_read_buffer_") as tmp:
        landing = Path(tmp)
        generate_exports(landing, DAY, DAY, events_per_day=events)
        path = ga4_path(landing, DAY, gzip=False)
        size_mb = path.stat().st_size / 1e6
        print(f"{events:,} events, {size_mb:,.0f} MB of NDJSON")
        default = read(path, "default")
        ours = read(path, str(READ_BUFFER_BYTES))
    print(f"{'buffer':<34} {'lines':>10} {'seconds':>8} {'peak RSS MB':>12}")
    for label, result in [
        (f"DuckDB default (16 x {MAX_LINE_BYTES // 2**20} MB)", default),
        (f"READ_BUFFER_BYTES ({READ_BUFFER_BYTES // 2**20} MB)", ours),
    ]:
        print(
            f"{label:<34} {result['rows']:>10,} {result['seconds']:>8.2f} "
            f"{result['rss_mb']:>12,.0f}"
        )
    print(f"peak RSS ratio, ours / default: {ours['rss_mb'] / default['rss_mb']:.2f}")


if __name__ == "__main__":
    main()
