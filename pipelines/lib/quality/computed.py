"""Quality checks a static GX suite cannot express: they depend on the partition's day, on the
lake's other partitions, or on a second table. Computed in DuckDB over lake Parquet files.

Each function measures one partition (one day) and returns a `Measure`: passed or not, the
numbers behind the verdict (flat scalars, for Dagster metadata and the check history) and one
line a reader can act on. All three are warnings in the pipeline: they flag, never block.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.lib.ingest.lake import PARTITION_KEY
from pipelines.lib.ingest.sql import quote_literal

Scalar = str | int | float | bool | None

# Freshness: a complete export day has events close to its end. The newest event older than
# this many hours before the end of the export day (reporting timezone) suggests a truncated
# or early export.
MAX_EVENT_LAG_HOURS = 6.0

# Click-id match rate: share of the day's paid sessions whose campaign key is a campaign in
# that day's ad report, per platform. Below this, spend cannot be joined to journeys.
MIN_CLICK_ID_MATCH_RATE = 0.8

# Volume anomaly: a day's row count against the median of the previous partitions in the lake.
VOLUME_WINDOW = 7
VOLUME_MIN_HISTORY = 3
VOLUME_HIGH_RATIO = 10.0
VOLUME_LOW_RATIO = 0.1

# Same list as the dbt var `microfunnel__paid_mediums` (dbt_project.yml); a unit test keeps
# them in step, so the check and the marts agree on what a paid touch is.
PAID_MEDIUMS: tuple[str, ...] = (
    "cpc",
    "ppc",
    "paid",
    "paidsearch",
    "paid_search",
    "paidsocial",
    "paid_social",
    "display",
    "cpm",
    "cpv",
)


@dataclass(frozen=True)
class Measure:
    """One day's verdict. `badness` orders days so a summary can show the worst one."""

    day: date
    passed: bool
    note: str
    metadata: dict[str, Scalar] = field(default_factory=dict)
    badness: float = 0.0
    skipped: bool = False


def newest_event_freshness(
    parquet_paths: Sequence[Path],
    export_day: date,
    timezone: str,
    *,
    max_lag_hours: float = MAX_EVENT_LAG_HOURS,
) -> Measure:
    """Is the partition's newest `event_at` within `max_lag_hours` of the export day's end?

    `event_at` is naive UTC; the export day ends at midnight of the next day in the reporting
    timezone (23- and 25-hour days included). An empty partition has no newest event: stale.
    """
    day_end = datetime.combine(export_day + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))
    day_end_utc = day_end.astimezone(UTC).replace(tzinfo=None)
    files = [str(p) for p in parquet_paths if Path(p).exists()]
    newest: datetime | None = None
    rows = 0
    if files:
        with duckdb.connect() as con:
            found = con.execute(
                "select max(event_at), count(*) from read_parquet(?)", [files]
            ).fetchone()
        newest, rows = (found[0], int(found[1])) if found else (None, 0)
    metadata: dict[str, Scalar] = {
        "export_day": export_day.isoformat(),
        "rows": rows,
        "newest_event_at_utc": newest.isoformat(sep=" ") if newest else None,
        "export_day_end_utc": day_end_utc.isoformat(sep=" "),
        "threshold_hours": max_lag_hours,
    }
    if newest is None:
        metadata["lag_hours"] = None
        return Measure(
            export_day,
            passed=False,
            note=f"{export_day}: no events, so no newest event (expected one within "
            f"{max_lag_hours:g} h of {day_end_utc} UTC)",
            metadata=metadata,
            badness=math.inf,
        )
    lag_hours = (day_end_utc - newest).total_seconds() / 3600
    metadata["lag_hours"] = round(lag_hours, 3)
    passed = lag_hours <= max_lag_hours
    verdict = "fresh" if passed else "stale"
    return Measure(
        export_day,
        passed=passed,
        note=f"{export_day}: newest event {newest:%Y-%m-%d %H:%M:%S} UTC, {lag_hours:.1f} h "
        f"before the export day's end ({verdict}; threshold {max_lag_hours:g} h)",
        metadata=metadata,
        badness=lag_hours,
    )


def _platform_sql() -> str:
    """Which ad platform an event came from: the dbt macro `ad_platform` in SQL."""
    mediums = ", ".join(quote_literal(m) for m in PAID_MEDIUMS)
    return f"""
        case
            when click_id_type in ('gclid', 'gbraid', 'wbraid', 'dclid') then 'google_ads'
            when click_id_type = 'fbclid' then 'meta_ads'
            when click_id_type = 'ttclid' then 'tiktok_ads'
            when click_id_type = 'li_fat_id' then 'linkedin_ads'
            when click_id_type = 'msclkid' then 'microsoft_ads'
            when utm_medium in ({mediums}) then
                case
                    when lower(utm_source) in ('google', 'adwords', 'google_ads') then 'google_ads'
                    when lower(utm_source) in ('facebook', 'fb', 'meta', 'instagram', 'ig')
                        then 'meta_ads'
                    when lower(utm_source) = 'tiktok' then 'tiktok_ads'
                    when lower(utm_source) = 'linkedin' then 'linkedin_ads'
                    when lower(utm_source) in ('bing', 'microsoft') then 'microsoft_ads'
                    else 'other_paid'
                end
        end"""


def click_id_match_rate(
    ads_paths: Sequence[Path],
    events_paths: Sequence[Path],
    day: date,
    *,
    min_rate: float = MIN_CLICK_ID_MATCH_RATE,
) -> Measure:
    """Share of the day's paid site sessions whose campaign appears in the day's ad report.

    A paid session is one with an event that carries a platform click id (gclid, fbclid, ...)
    or a paid utm_medium, from a platform that has rows in the ad report that day. Its campaign
    key is `utm_id`, else `utm_campaign`, of its first paid event -- the key dbt joins spend
    on -- and it matches when the report has that `campaign_id` for that platform. Sessions are
    `(anonymous_id, session_id)`; an event without a session counts as its own session. Only
    events whose `event_date` is the day count. Skipped (passed) when either side is missing.
    """
    ads = [str(p) for p in ads_paths if Path(p).exists()]
    events = [str(p) for p in events_paths if Path(p).exists()]
    metadata: dict[str, Scalar] = {"day": day.isoformat(), "threshold": min_rate}
    if not events:
        return _skipped(
            day, f"{day}: no events partition for the day; match rate not measured", metadata
        )
    if not ads:
        return _skipped(
            day, f"{day}: no ad report partition for the day; match rate not measured", metadata
        )
    with duckdb.connect() as con:
        con.execute("create temp table ads as select * from read_parquet(?)", [ads])
        con.execute(
            "create temp table ev as select * from read_parquet(?) where event_date = ?",
            [events, day],
        )
        found = con.execute(
            f"""
            with touches as (
                select
                    coalesce(anonymous_id, '') || '/' || coalesce(session_id, 'event:' || event_id)
                        as session_key,
                    {_platform_sql()} as platform,
                    coalesce(utm_id, utm_campaign) as campaign_key,
                    event_at,
                    event_id
                from ev
            ),
            paid_sessions as (
                select
                    session_key,
                    arg_min(platform, (event_at, event_id)) as platform,
                    arg_min(campaign_key, (event_at, event_id)) as campaign_key
                from touches
                where platform is not null
                group by session_key
            ),
            reported as (
                select platform from ads where campaign_id is not null group by platform
            )
            select
                count(*) as paid_sessions,
                count(*) filter (
                    where exists (
                        select 1 from ads
                        where ads.platform = s.platform and ads.campaign_id = s.campaign_key
                    )
                ) as matched_sessions,
                (select coalesce(sum(clicks), 0) from ads) as ad_clicks,
                (select count(*) from ads) as ad_rows
            from paid_sessions as s
            where s.platform in (select platform from reported)
            """
        ).fetchone()
    paid, matched, clicks, ad_rows = (int(v) for v in found) if found else (0, 0, 0, 0)
    metadata.update({"ad_rows": ad_rows, "ad_clicks": clicks, "paid_sessions": paid})
    metadata["matched_sessions"] = matched
    if ad_rows == 0:
        return _skipped(
            day, f"{day}: the ad report has no rows for the day; not measured", metadata
        )
    if paid == 0:
        metadata["match_rate"] = None
        return _skipped(
            day, f"{day}: no paid sessions from the reported platforms; not measured", metadata
        )
    rate = matched / paid
    metadata["match_rate"] = round(rate, 6)
    passed = rate >= min_rate
    return Measure(
        day,
        passed=passed,
        note=f"{day}: {matched} of {paid} paid sessions ({rate:.1%}) have a campaign in the ad "
        f"report (threshold {min_rate:.0%}); {clicks} ad clicks reported",
        metadata=metadata,
        badness=1.0 - rate,
    )


def partition_row_counts(table_dir: Path) -> dict[date, int]:
    """Rows per lake partition from Parquet footers (no data read). Empty when none exist."""
    files = sorted(table_dir.glob(f"{PARTITION_KEY}=????-??-??/*.parquet"))
    if not files:
        return {}
    with duckdb.connect() as con:
        rows = con.execute(
            "select file_name, num_rows from parquet_file_metadata(?)",
            [[str(f) for f in files]],
        ).fetchall()
    counts: dict[date, int] = {}
    for file_name, num_rows in rows:
        day = date.fromisoformat(Path(file_name).parent.name.split("=", 1)[1])
        counts[day] = counts.get(day, 0) + int(num_rows or 0)
    return counts


def volume_anomaly(
    counts: dict[date, int],
    day: date,
    *,
    window: int = VOLUME_WINDOW,
    min_history: int = VOLUME_MIN_HISTORY,
    high_ratio: float = VOLUME_HIGH_RATIO,
    low_ratio: float = VOLUME_LOW_RATIO,
) -> Measure:
    """Is the day's row count at least `high_ratio` or at most `low_ratio` times the median of
    the previous `window` partitions that exist (gaps skipped)? Skipped with fewer than
    `min_history` of them."""
    rows = counts.get(day, 0)
    previous = sorted(d for d in counts if d < day)[-window:]
    metadata: dict[str, Scalar] = {
        "day": day.isoformat(),
        "day_rows": rows,
        "trailing_partitions": len(previous),
        "trailing_first": previous[0].isoformat() if previous else None,
        "trailing_last": previous[-1].isoformat() if previous else None,
        "high_threshold": high_ratio,
        "low_threshold": low_ratio,
    }
    if len(previous) < min_history:
        metadata.update({"trailing_median": None, "ratio": None})
        return _skipped(
            day,
            f"{day}: {rows} rows; only {len(previous)} earlier partitions (need {min_history}), "
            "not compared",
            metadata,
        )
    median = float(statistics.median(counts[d] for d in previous))
    metadata["trailing_median"] = median
    if median == 0:
        metadata["ratio"] = None
        passed = rows == 0
        badness = 0.0 if passed else math.inf
        note = f"{day}: {rows} rows against a trailing median of 0"
    else:
        ratio = rows / median
        metadata["ratio"] = round(ratio, 6)
        passed = low_ratio < ratio < high_ratio
        badness = abs(math.log(ratio)) if ratio > 0 else math.inf
        note = (
            f"{day}: {rows} rows, {ratio:.2f}x the median {median:g} of the previous "
            f"{len(previous)} partitions (anomaly at >= {high_ratio:g}x or <= {low_ratio:g}x)"
        )
    return Measure(day, passed=passed, note=note, metadata=metadata, badness=badness)


def _skipped(day: date, note: str, metadata: dict[str, Scalar]) -> Measure:
    return Measure(day, passed=True, note=note, metadata=metadata, badness=-1.0, skipped=True)
