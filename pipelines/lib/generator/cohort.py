"""One cohort day: the journeys that start on a day, their steps, events and page URLs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import pyarrow as pa

from . import bq_json as bq
from . import catalog as cat
from .events import Events, StepTimes, events_per_journey, expand_events
from .journeys import DAY_US, Journeys, Steps, simulate_journeys, simulate_steps

EPOCH = date(1970, 1, 1)
GCLID_ALPHABET = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", dtype=np.uint8
)
# Stream ids for the random generators of one day, so each concern draws independently.
SIMULATION, DELIVERY, ADS = 1, 2, 3


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
    step_url: pa.Array  # page_location (JSON-escaped) of each navigating step
    step_gclid: pa.Array  # click id of each paid entry step ("" elsewhere)
    server_offset_us: np.ndarray  # per event: event_server_timestamp_offset
    transaction: np.ndarray  # per journey: number part of the purchase transaction_id

    @property
    def event_day(self) -> np.ndarray:
        """Days since 1970-01-01 (UTC) of each event."""
        return self.events.ts_us // DAY_US


def _head(j: Journeys, n: int) -> Journeys:
    return Journeys(**{f.name: getattr(j, f.name)[:n] for f in fields(j)})


def _keep_steps(s: Steps, keep: np.ndarray) -> Steps:
    return Steps(**{f.name: getattr(s, f.name)[keep] for f in fields(s)})


def gclids(rng: np.random.Generator, n: int) -> pa.Array:
    """Click ids shaped like Google's (`Cj0KCQiA` and a base64url tail)."""
    tail = GCLID_ALPHABET[rng.integers(0, len(GCLID_ALPHABET), size=(n, 62))]
    prefix = np.frombuffer(b"Cj0KCQiA", dtype=np.uint8)
    raw = np.concatenate([np.broadcast_to(prefix, (n, 8)), tail], axis=1)
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 70).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(raw.tobytes())])


def simulate_cohort(seed: int, day: date, events_target: int) -> Cohort:
    rng = day_rng(seed, day, SIMULATION)
    day_start = (day - EPOCH).days * DAY_US
    # Draw more journeys than needed, then keep the prefix that fills the day's event target.
    n = max(8, int(events_target / 4.0) + 20)
    while True:
        journeys = simulate_journeys(rng, day_start, n)
        steps = simulate_steps(rng, journeys)
        per_journey = events_per_journey(steps, n)
        if per_journey.sum() >= events_target:
            break
        n *= 2
    keep_n = max(1, int(np.searchsorted(np.cumsum(per_journey), events_target, side="right")))
    journeys = _head(journeys, keep_n)
    steps = _keep_steps(steps, steps.journey < keep_n)
    events, times = expand_events(rng, journeys, steps)

    paid = steps.is_paid_entry
    step_gclid = bq.scatter_optional(paid, gclids(rng, int(paid.sum())))
    campaign = np.maximum(journeys.campaign[steps.journey], 0)
    query = [
        bq.escape(f"?utm_source=google&utm_medium=cpc&utm_campaign={c.name}&utm_id={c.id}&gclid=")
        for c in cat.CAMPAIGNS
    ]
    step_url = bq.concat(
        bq.pick([bq.escape(cat.SITE + path) for path, _ in cat.PAGES], np.maximum(steps.page, 0)),
        bq.optional(paid, bq.pick(query, campaign)),
        step_gclid,
    )
    return Cohort(
        day=day,
        journeys=journeys,
        steps=steps,
        times=times,
        events=events,
        step_url=step_url,
        step_gclid=step_gclid,
        server_offset_us=rng.integers(150_000, 3_000_000, size=len(events.ts_us)),
        transaction=rng.integers(100_000, 999_999, size=len(journeys)),
    )
