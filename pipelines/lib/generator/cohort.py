"""One cohort day: the journeys that start on a day, their steps, events and page URLs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import bq_json as bq
from . import catalog as cat
from .events import Events, StepTimes, events_per_journey, expand_events
from .journeys import DAY_US, Journeys, Steps, simulate_journeys, simulate_steps

EPOCH = date(1970, 1, 1)
GCLID_ALPHABET = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)
# Stream ids for the random generators of one day, so each concern draws independently (and
# adding a concern leaves the others' draws, hence the Google-only files, unchanged).
SIMULATION, DELIVERY, ADS, CLICK_IDS, TRACKERS, TRACKER_IDS = 1, 2, 3, 4, 5, 6


def day_rng(seed: int, day: date, stream: int) -> np.random.Generator:
    """Each day has its own generator: a day's data does not depend on the range asked for."""
    return np.random.default_rng([seed, day.toordinal(), stream])


@dataclass
class Cohort:
    day: date
    journeys: Journeys
    steps: Steps
    times: StepTimes
    events: Events
    lineup: cat.Lineup
    step_url: pa.Array  # page_location (JSON-escaped) of each navigating step
    step_gclid: pa.Array  # click id (any platform's) of each paid entry step ("" elsewhere)
    server_offset_us: np.ndarray  # per event: event_server_timestamp_offset
    transaction: np.ndarray  # per journey: number part of the purchase transaction_id

    @property
    def event_day(self) -> np.ndarray:
        """Days since 1970-01-01 (UTC) of each event."""
        return self.events.ts_us // DAY_US

    def step_platform(self) -> np.ndarray:
        """Per step: index into lineup.platforms of the campaign's platform, -1 if unpaid."""
        return campaign_platform(self.lineup)[self.journeys.campaign[self.steps.journey]]

    def step_url_plain(self) -> pa.Array:
        """page_location of each step as plain text (what trackers other than GA4 send)."""
        return _step_urls(self, escape=lambda text: text)


def campaign_platform(lineup: cat.Lineup) -> np.ndarray:
    """Index into lineup.platforms per campaign index, with -1 (unpaid) as the last entry."""
    names = [p.name for p in lineup.platforms]
    return np.array([names.index(c.platform) for c in lineup.campaigns] + [-1])


def _head(j: Journeys, n: int) -> Journeys:
    return Journeys(**{f.name: getattr(j, f.name)[:n] for f in fields(j)})


def _keep_steps(s: Steps, keep: np.ndarray) -> Steps:
    return Steps(**{f.name: getattr(s, f.name)[keep] for f in fields(s)})


def fixed_width(raw: np.ndarray) -> pa.Array:
    """A string array from an (n, width) uint8 matrix of ASCII codes."""
    n, width = raw.shape
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * width).tobytes())
    data = pa.py_buffer(np.ascontiguousarray(raw, dtype=np.uint8).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def _tokens(rng: np.random.Generator, n: int, prefix: bytes, length: int) -> pa.Array:
    tail = GCLID_ALPHABET[rng.integers(0, len(GCLID_ALPHABET), size=(n, length))]
    head = np.broadcast_to(np.frombuffer(prefix, dtype=np.uint8), (n, len(prefix)))
    return fixed_width(np.concatenate([head, tail], axis=1))


def gclids(rng: np.random.Generator, n: int) -> pa.Array:
    """Click ids shaped like Google's (`Cj0KCQiA` and a base64url tail)."""
    return _tokens(rng, n, b"Cj0KCQiA", 62)


HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(rng: np.random.Generator, n: int, *, uuid: bool) -> pa.Array:
    """Random 32-hex-digit ids; uuid=True: as version-4 UUIDs (8-4-4-4-12)."""
    nibbles = rng.integers(0, 16, size=(n, 32))
    if not uuid:
        return fixed_width(HEX[nibbles])
    nibbles[:, 12] = 4  # version 4
    nibbles[:, 16] = 8 + nibbles[:, 16] % 4  # RFC 4122 variant
    chars = HEX[nibbles]
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    parts = [chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash, chars[:, 16:20]]
    return fixed_width(np.concatenate([*parts, dash, chars[:, 20:]], axis=1))


def click_ids(rng: np.random.Generator, platform: str, n: int) -> pa.Array:
    """Click ids shaped like each platform's: fbclid `IwAR...`, ttclid `E.C.P....`, LinkedIn's
    li_fat_id a UUID, Microsoft's msclkid 32 hex digits."""
    if platform == "meta_ads":
        return _tokens(rng, n, b"IwAR", 57)
    if platform == "tiktok_ads":
        return _tokens(rng, n, b"E.C.P.", 58)
    if platform == "linkedin_ads":
        return hex_ids(rng, n, uuid=True)
    if platform == "microsoft_ads":
        return hex_ids(rng, n, uuid=False)
    raise ValueError(f"no click id shape for {platform}")


def _paid_click_ids(
    rng: np.random.Generator,
    seed: int,
    day: date,
    platform_of_step: np.ndarray,
    lineup: cat.Lineup,
) -> pa.Array:
    """One click id per paid entry step. Google's are drawn for every paid step first, as the
    Google-only generator did; the other platforms' replace theirs from a stream of their own."""
    out = gclids(rng, len(platform_of_step))
    other = day_rng(seed, day, CLICK_IDS)
    for index, platform in enumerate(lineup.platforms):
        mask = platform_of_step == index
        if platform.name == "google_ads" or not mask.any():
            continue
        ids = bq.scatter_optional(mask, click_ids(other, platform.name, int(mask.sum())))
        out = pc.if_else(pa.array(mask), ids, out)
    return out


def _step_urls(cohort: Cohort, escape: Callable[[str], str]) -> pa.Array:
    """Page URL of every step; paid entries carry the platform's UTMs and click id."""
    steps, lineup = cohort.steps, cohort.lineup
    query = [
        escape(
            f"?utm_source={c.account.utm_source}&utm_medium={c.account.utm_medium}"
            f"&utm_campaign={c.name}&utm_id={c.id}&{c.account.click_id}="
        )
        for c in lineup.campaigns
    ]
    campaign = np.maximum(cohort.journeys.campaign[steps.journey], 0)
    paid = steps.is_paid_entry
    return bq.concat(
        bq.pick([escape(cat.SITE + path) for path, _ in cat.PAGES], np.maximum(steps.page, 0)),
        bq.optional(paid, bq.pick(query, campaign)),
        cohort.step_gclid,
    )


def simulate_cohort(seed: int, day: date, events_target: int, lineup: cat.Lineup) -> Cohort:
    rng = day_rng(seed, day, SIMULATION)
    day_start = (day - EPOCH).days * DAY_US
    # Draw more journeys than needed, then keep the prefix that fills the day's event target.
    n = max(8, int(events_target / 4.0) + 20)
    while True:
        journeys = simulate_journeys(rng, day_start, n, lineup)
        steps = simulate_steps(rng, journeys, lineup)
        per_journey = events_per_journey(steps, n)
        if per_journey.sum() >= events_target:
            break
        n *= 2
    keep_n = max(1, int(np.searchsorted(np.cumsum(per_journey), events_target, side="right")))
    journeys = _head(journeys, keep_n)
    steps = _keep_steps(steps, steps.journey < keep_n)
    events, times = expand_events(rng, journeys, steps)

    paid = steps.is_paid_entry
    platform_of_step = campaign_platform(lineup)[journeys.campaign[steps.journey]]
    step_click = bq.scatter_optional(
        paid, _paid_click_ids(rng, seed, day, platform_of_step[paid], lineup)
    )
    cohort = Cohort(
        day=day,
        journeys=journeys,
        steps=steps,
        times=times,
        events=events,
        lineup=lineup,
        step_url=pa.array([], pa.string()),
        step_gclid=step_click,
        server_offset_us=rng.integers(150_000, 3_000_000, size=len(events.ts_us)),
        transaction=rng.integers(100_000, 999_999, size=len(journeys)),
    )
    cohort.step_url = _step_urls(cohort, escape=bq.escape)
    return cohort
