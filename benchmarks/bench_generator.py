"""Generator throughput: one day of one million GA4 events into a temporary folder.

Run: .venv/bin/python benchmarks/bench_generator.py [events] [--gzip]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pipelines.lib.generator import generate_exports


def main(argv: list[str]) -> None:
    numbers = [a for a in argv if a.isdigit()]
    events = int(numbers[0]) if numbers else 1_000_000
    gzip = "--gzip" in argv
    day = date(2024, 1, 5)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = generate_exports(Path(tmp), day, day, events_per_day=events, gzip=gzip)
        seconds = time.perf_counter() - started
        written = summary.events_per_day[day]
        size = sum(p.stat().st_size for p in summary.files)
    print(f"events requested   {events:,}")
    print(f"events written     {written:,}  (the rest fall on the next day, outside the range)")
    print(f"seconds            {seconds:.2f}")
    print(f"events/second      {events / seconds:,.0f}  (simulated, incl. next-day spill)")
    print(f"bytes written      {size / 1e6:,.0f} MB{' (gzip)' if gzip else ''}")


if __name__ == "__main__":
    main(sys.argv[1:])
