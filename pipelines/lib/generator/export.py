"""`generate_exports`: sample GA4 and Google Ads exports for a date range, day by day."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import catalog as cat
from .cohort import ADS, DELIVERY, EPOCH, Cohort, day_rng, simulate_cohort
from .delivery import Deliveries, plan_deliveries
from .ga4_rows import render_rows
from .google_ads import SHAPES, platform_value, simulate_ad_day, write_report
from .journeys import DAY_US
from .ndjson import write_lines

CHUNK_ROWS = 200_000  # rows rendered at a time: bounds memory for large days


@dataclass(frozen=True)
class GenerationSummary:
    files: tuple[Path, ...]
    events_per_day: dict[date, int]  # rows written to each day's GA4 file
    ad_rows: int
    campaigns: tuple[str, ...]
    late_events: int = 0  # rows in a later day's file than their event_date
    duplicate_events: int = 0  # second copies of an event
    ad_rows_per_day: dict[date, int] = field(default_factory=dict)


def ga4_path(landing_dir: Path, day: date, *, gzip: bool) -> Path:
    return landing_dir / "ga4" / f"events_{day:%Y%m%d}.json{'.gz' if gzip else ''}"


@dataclass
class _Pending:
    cohort: Cohort
    deliveries: Deliveries


def _validate(start: date, end: date, events_per_day: int, shares: dict[str, float], shape: str):
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if events_per_day < 1:
        raise ValueError(f"events_per_day must be positive, got {events_per_day}")
    for name, share in shares.items():
        if not 0.0 <= share < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {share}")
    if shape not in SHAPES:
        raise ValueError(f"ads_shape must be one of {SHAPES}, got {shape!r}")


def _file_chunks(pending: list[_Pending], day: int, stats: dict[str, int]) -> Iterator[pa.Array]:
    """Rows for one export day: cohorts oldest first, each in event time order."""
    for p in pending:
        d = p.deliveries.take(p.deliveries.day == day)
        if not len(d.row):
            continue
        ts = p.cohort.events.ts_us[d.row]
        order = np.lexsort((d.is_copy, d.row, ts))
        rows = d.row[order]
        stats["late"] += int((ts // DAY_US + EPOCH.toordinal() != day).sum())
        stats["duplicates"] += int(d.is_copy.sum())
        for lo in range(0, len(rows), CHUNK_ROWS):
            yield render_rows(p.cohort, rows[lo : lo + CHUNK_ROWS])


def generate_exports(
    landing_dir: Path,
    start: date,
    end: date,
    *,
    events_per_day: int = 20_000,
    seed: int = 7,
    gzip: bool = False,
    late_share: float = 0.01,
    duplicate_share: float = 0.005,
    ads_shape: str = "api",
) -> GenerationSummary:
    """Write GA4 export files and Google Ads reports for every day in [start, end].

    Each day's journeys come from a generator seeded by (seed, day), so a day's behaviour does
    not depend on the range requested. Events that would be delivered after `end` (late, or
    from journeys still running) are not written: their files are outside the range.
    """
    _validate(
        start, end, events_per_day, {"late_share": late_share, "duplicate_share": duplicate_share},
        ads_shape,
    )  # fmt: skip
    landing_dir = Path(landing_dir)
    end_ord = end.toordinal()
    n_ads = len(cat.ADS)
    landings: dict[int, np.ndarray] = {}
    pending: list[_Pending] = []
    files: list[Path] = []
    per_day: dict[date, int] = {}
    ads_per_day: dict[date, int] = {}
    stats = {"late": 0, "duplicates": 0}

    day = start
    while day <= end:
        cohort = simulate_cohort(seed, day, events_per_day)
        event_day = cohort.event_day + EPOCH.toordinal()
        deliveries = plan_deliveries(
            day_rng(seed, day, DELIVERY), event_day, late_share, duplicate_share
        )
        pending.append(_Pending(cohort, deliveries.take(deliveries.day <= end_ord)))

        # Paid landings by ad and day feed the ad report's click counts.
        s, j = cohort.steps, cohort.journeys
        land_day = cohort.times.start_us[s.is_paid_entry] // DAY_US + EPOCH.toordinal()
        land_ad = j.ad[s.journey[s.is_paid_entry]]
        for d in np.unique(land_day[land_day <= end_ord]):
            counts = np.bincount(land_ad[land_day == d], minlength=n_ads)
            landings[int(d)] = landings.get(int(d), np.zeros(n_ads, np.int64)) + counts
        converted = (j.conversion >= 0) & (j.ad >= 0)
        conv = np.bincount(j.ad[converted], minlength=n_ads).astype(float)
        value = np.bincount(
            j.ad[converted],
            weights=platform_value(j.conversion[converted], j.product[converted]),
            minlength=n_ads,
        )

        path = ga4_path(landing_dir, day, gzip=gzip)
        per_day[day] = write_lines(
            path, _file_chunks(pending, day.toordinal(), stats), compress=gzip
        )
        files.append(path)
        pending = [p for p in pending if (p.deliveries.day > day.toordinal()).any()]
        for p in pending:
            p.deliveries = p.deliveries.take(p.deliveries.day > day.toordinal())

        ad_day = simulate_ad_day(
            day_rng(seed, day, ADS),
            day,
            landings.pop(day.toordinal(), np.zeros(n_ads, np.int64)),
            conv,
            value,
        )
        ads_path, n_rows = write_report(landing_dir, ad_day, ads_shape)
        files.append(ads_path)
        ads_per_day[day] = n_rows
        day += timedelta(days=1)

    return GenerationSummary(
        files=tuple(files),
        events_per_day=per_day,
        ad_rows=sum(ads_per_day.values()),
        campaigns=tuple(c.name for c in cat.CAMPAIGNS),
        late_events=stats["late"],
        duplicate_events=stats["duplicates"],
        ad_rows_per_day=ads_per_day,
    )
