"""`generate_exports`: sample site-event exports and every platform's ad reports, day by day."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import catalog as cat
from .ad_reports import (
    META_FORMATS,
    local_days,
    needs_next_day,
    platform_value,
    report_path,
    report_rows,
    simulate_ad_day,
    writer_for,
)
from .cohort import ADS, DELIVERY, EPOCH, Cohort, campaign_platform, day_rng, simulate_cohort
from .delivery import Deliveries, plan_deliveries
from .exchange_rates import write_rates
from .ga4_rows import render_rows
from .google_ads import SHAPES
from .journeys import DAY_US
from .ndjson import write_lines
from .site_events import SiteIds, site_event_table, site_ids
from .trackers import FOLDERS, GA4, TRACKER_NAMES, assign_trackers, tracker_shares
from .trackers import writer_for as site_writer_for

CHUNK_ROWS = 200_000  # rows rendered at a time: bounds memory for large days


@dataclass(frozen=True)
class GenerationSummary:
    files: tuple[Path, ...]
    events_per_day: dict[date, int]  # rows written to each day's GA4 file
    ad_rows: int  # every platform's
    campaigns: tuple[str, ...]  # "<platform>:<campaign name>" unless only Google runs
    late_events: int = 0  # rows in a later day's file than their event_date (every tracker)
    duplicate_events: int = 0  # second copies of an event (every tracker)
    ad_rows_per_day: dict[date, int] = field(default_factory=dict)
    files_per_source: dict[str, int] = field(default_factory=dict)  # ga4, segment, meta_ads, ...
    ad_rows_per_platform: dict[str, int] = field(default_factory=dict)
    site_events_per_tracker: dict[str, int] = field(default_factory=dict)
    currencies: dict[str, str] = field(default_factory=dict)  # platform -> account currency


def ga4_path(landing_dir: Path, day: date, *, gzip: bool) -> Path:
    return landing_dir / "ga4" / f"events_{day:%Y%m%d}.json{'.gz' if gzip else ''}"


@dataclass
class _Pending:
    cohort: Cohort
    deliveries: Deliveries
    tracker: np.ndarray  # per event: index into TRACKER_NAMES
    ids: SiteIds | None  # tracker ids, only when a tracker other than GA4 runs


def _validate(
    start: date, end: date, events_per_day: int, shares: dict[str, float], shape: str,
    meta_format: str,
) -> None:  # fmt: skip
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if events_per_day < 1:
        raise ValueError(f"events_per_day must be positive, got {events_per_day}")
    for name, share in shares.items():
        if not 0.0 <= share < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {share}")
    if shape not in SHAPES:
        raise ValueError(f"ads_shape must be one of {SHAPES}, got {shape!r}")
    if meta_format not in META_FORMATS:
        raise ValueError(f"meta_format must be one of {META_FORMATS}, got {meta_format!r}")


def _delivered(p: _Pending, day: int, tracker: int) -> Deliveries:
    return p.deliveries.take((p.deliveries.day == day) & (p.tracker[p.deliveries.row] == tracker))


def _count(pending: list[_Pending], day: int, stats: dict[str, int]) -> None:
    """Late and duplicated rows of one export day, over every tracker's files."""
    for p in pending:
        d = p.deliveries.take(p.deliveries.day == day)
        ts = p.cohort.events.ts_us[d.row]
        stats["late"] += int((ts // DAY_US + EPOCH.toordinal() != day).sum())
        stats["duplicates"] += int(d.is_copy.sum())


def _ordered(p: _Pending, d: Deliveries) -> np.ndarray:
    ts = p.cohort.events.ts_us[d.row]
    return d.row[np.lexsort((d.is_copy, d.row, ts))]


def _file_chunks(pending: list[_Pending], day: int) -> Iterator[pa.Array]:
    """GA4 rows for one export day: cohorts oldest first, each in event time order."""
    for p in pending:
        d = _delivered(p, day, GA4)
        if not len(d.row):
            continue
        rows = _ordered(p, d)
        for lo in range(0, len(rows), CHUNK_ROWS):
            yield render_rows(p.cohort, rows[lo : lo + CHUNK_ROWS])


def _site_table(pending: list[_Pending], day: int, tracker: int) -> pa.Table:
    """A non-GA4 tracker's events delivered on one export day, sorted by event time."""
    from .source_rows import SITE_EVENT_SCHEMA

    parts = []
    for p in pending:
        d = _delivered(p, day, tracker)
        if len(d.row) and p.ids is not None:
            parts.append(site_event_table(p.cohort, p.ids, _ordered(p, d)))
    if not parts:
        return SITE_EVENT_SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    return table.take(pa.array(np.argsort(table["event_at"].to_numpy(), kind="stable")))


def _parse_ads(ads: Sequence[str] | str) -> list[str]:
    return [a.strip() for a in ads.split(",")] if isinstance(ads, str) else list(ads)


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
    ads: Sequence[str] | str = cat.PLATFORM_NAMES,
    meta_format: str = "csv",
    trackers: Mapping[str, float | None] | None = None,
) -> GenerationSummary:
    """Write site-event exports and every platform's ad reports for every day in [start, end].

    `ads`: the platforms the advertiser buys on (default all five; ("google_ads",) writes what
    the Google-only generator wrote, byte for byte). `trackers`: share of visitors per site
    tracker (default {"ga4": 1.0}; a tracker given None gets what the others leave).

    Each day's journeys come from a generator seeded by (seed, day), so a day's behaviour does
    not depend on the range requested. Events that would be delivered after `end` (late, or
    from journeys still running) are not written: their files are outside the range.
    """
    _validate(
        start, end, events_per_day, {"late_share": late_share, "duplicate_share": duplicate_share},
        ads_shape, meta_format,
    )  # fmt: skip
    lineup = cat.lineup(_parse_ads(ads))
    shares = tracker_shares(trackers if trackers is not None else {"ga4": 1.0})
    other_trackers = [TRACKER_NAMES.index(k) for k in shares if k != "ga4" and shares[k] > 0]
    site_writers = {t: site_writer_for(TRACKER_NAMES[t]) for t in other_trackers}
    ad_writers = {
        p.name: writer_for(p.name, ads_shape=ads_shape, meta_format=meta_format)
        for p in lineup.platforms
    }
    landing_dir = Path(landing_dir)
    end_ord = end.toordinal()
    n_ads = len(lineup.ads)
    ad_platform = campaign_platform(lineup)[[a.campaign_index for a in lineup.ads]]
    day_tz = [p.day_timezone for p in lineup.platforms]
    landings: dict[int, np.ndarray] = {}
    platform_conversions: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    pending: list[_Pending] = []
    files: list[Path] = []
    per_day: dict[date, int] = {}
    ads_per_day: dict[date, int] = {}
    per_source: dict[str, int] = {}
    ad_rows_per_platform = {p.name: 0 for p in lineup.platforms}
    site_events = {TRACKER_NAMES[t]: 0 for t in other_trackers}
    stats = {"late": 0, "duplicates": 0}

    def add_landings(cohort: Cohort) -> None:
        """Paid landings by ad and platform day (cut in each platform's day time zone)."""
        s, j = cohort.steps, cohort.journeys
        land_ts = cohort.times.start_us[s.is_paid_entry]
        land_ad = j.ad[s.journey[s.is_paid_entry]]
        land_day = np.zeros(len(land_ts), dtype=np.int64)
        for index, tz in enumerate(day_tz):
            mask = ad_platform[land_ad] == index
            land_day[mask] = local_days(land_ts[mask], tz)
        for d in np.unique(land_day[land_day <= end_ord]):
            counts = np.bincount(land_ad[land_day == d], minlength=n_ads)
            landings[int(d)] = landings.get(int(d), np.zeros(n_ads, np.int64)) + counts

    def write_ads(day: date) -> None:
        conv, value = platform_conversions.pop(day.toordinal())
        ad_day = simulate_ad_day(
            day_rng(seed, day, ADS),
            day,
            landings.pop(day.toordinal(), np.zeros(n_ads, np.int64)),
            conv,
            value,
            lineup,
        )
        ads_per_day[day] = 0
        for platform, rows in report_rows(ad_day, lineup).items():
            path = report_path(landing_dir, platform, day, meta_format=meta_format)
            path.parent.mkdir(parents=True, exist_ok=True)
            n_rows = ad_writers[platform](path, rows)
            files.append(path)
            per_source[platform] = per_source.get(platform, 0) + 1
            ads_per_day[day] += n_rows
            ad_rows_per_platform[platform] += n_rows

    wait_a_day = needs_next_day(lineup, end)
    day = start
    while day <= end:
        cohort = simulate_cohort(seed, day, events_per_day, lineup)
        event_day = cohort.event_day + EPOCH.toordinal()
        deliveries = plan_deliveries(
            day_rng(seed, day, DELIVERY), event_day, late_share, duplicate_share
        )
        tracker = assign_trackers(seed, cohort, shares)
        ids = site_ids(seed, cohort) if other_trackers else None
        pending.append(_Pending(cohort, deliveries.take(deliveries.day <= end_ord), tracker, ids))

        add_landings(cohort)
        j = cohort.journeys
        converted = (j.conversion >= 0) & (j.ad >= 0)
        conv = np.bincount(j.ad[converted], minlength=n_ads).astype(float)
        value = np.bincount(
            j.ad[converted],
            weights=platform_value(j.conversion[converted], j.product[converted]),
            minlength=n_ads,
        )
        platform_conversions[day.toordinal()] = (conv, value)

        today = day.toordinal()
        _count(pending, today, stats)
        if "ga4" in shares:
            path = ga4_path(landing_dir, day, gzip=gzip)
            per_day[day] = write_lines(path, _file_chunks(pending, today), compress=gzip)
            files.append(path)
            per_source["ga4"] = per_source.get("ga4", 0) + 1
        for t in other_trackers:
            name = TRACKER_NAMES[t]
            table = _site_table(pending, today, t)
            written = site_writers[t](landing_dir / FOLDERS[name], day, table)
            files.extend(written)
            per_source[name] = per_source.get(name, 0) + len(written)
            site_events[name] += table.num_rows
        pending = [p for p in pending if (p.deliveries.day > today).any()]
        for p in pending:
            p.deliveries = p.deliveries.take(p.deliveries.day > today)

        # A platform day cut west of UTC is complete once the next UTC day's clicks are in.
        if not wait_a_day:
            write_ads(day)
        elif day > start:
            write_ads(day - timedelta(days=1))
        day += timedelta(days=1)
    if wait_a_day:
        add_landings(simulate_cohort(seed, end + timedelta(days=1), events_per_day, lineup))
        write_ads(end)

    # Spend in other currencies than USD needs the day's exchange rates (README: Currencies).
    rates = write_rates(landing_dir, start, end, lineup.platforms, seed)
    if rates is not None:
        files.append(rates)
        per_source["exchange_rates"] = 1

    only_google = [p.name for p in lineup.platforms] == ["google_ads"]
    return GenerationSummary(
        files=tuple(files),
        events_per_day=per_day,
        ad_rows=sum(ads_per_day.values()),
        campaigns=tuple(
            c.name if only_google else f"{c.platform}:{c.name}" for c in lineup.campaigns
        ),
        late_events=stats["late"],
        duplicate_events=stats["duplicates"],
        ad_rows_per_day=dict(sorted(ads_per_day.items())),
        files_per_source=per_source,
        ad_rows_per_platform=ad_rows_per_platform,
        site_events_per_tracker=site_events,
        currencies={p.name: p.currency for p in lineup.platforms},
    )
