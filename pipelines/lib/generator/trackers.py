"""Which site tracker records each visitor: GA4 by default, a share on Segment, Snowplow or a
generic event log.

Real sites often run two trackers (a marketing site on GA4, the app on Segment). A visitor is
assigned to one tracker; some of those on another tracker had their first session recorded by
GA4 (`DUAL_TRACKED`), so a person who is signed in on both shows the same user_id in two
sources, which the identity stitching has to join.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from .cohort import TRACKERS, Cohort, day_rng

TRACKER_NAMES = ("ga4", "segment", "snowplow", "generic")
GA4 = 0
FOLDERS = {"ga4": "ga4", "segment": "segment", "snowplow": "snowplow", "generic": "events"}
DUAL_TRACKED = 0.35  # of the visitors on another tracker: first session seen by GA4 too

SiteWriter = Callable[[Path, date, pa.Table], list[Path]]


def tracker_shares(spec: Mapping[str, float | None]) -> dict[str, float]:
    """Shares of visitors per tracker, in TRACKER_NAMES order. Trackers given without a share
    split what the others leave equally; the shares must add up to 1."""
    unknown = sorted(set(spec) - set(TRACKER_NAMES))
    if unknown or not spec:
        raise ValueError(
            f"trackers must be some of {', '.join(TRACKER_NAMES)}; got {', '.join(spec) or '[]'}"
        )
    given = {k: v for k, v in spec.items() if v is not None}
    for name, share in given.items():
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"tracker share of {name} must be in [0, 1], got {share}")
    rest = 1.0 - sum(given.values())
    open_ = [k for k, v in spec.items() if v is None]
    if rest < -1e-9 or (not open_ and abs(rest) > 1e-9):
        raise ValueError(
            f"tracker shares must add up to 1, got {sum(given.values()):g}; leave one tracker "
            "without a share to give it the rest"
        )
    shares = {**given, **{k: max(rest, 0.0) / len(open_) for k in open_}}
    return {k: shares[k] for k in TRACKER_NAMES if k in shares}


def assign_trackers(seed: int, cohort: Cohort, shares: Mapping[str, float]) -> np.ndarray:
    """Per event of the cohort: index into TRACKER_NAMES of the tracker that records it."""
    n_events = len(cohort.events.ts_us)
    if shares.get("ga4", 0.0) >= 1.0:
        return np.zeros(n_events, dtype=np.int8)
    rng = day_rng(seed, cohort.day, TRACKERS)
    names = list(shares)
    weights = np.array([shares[k] for k in names])
    codes = np.array([TRACKER_NAMES.index(k) for k in names], dtype=np.int8)
    n = len(cohort.journeys)
    pick = np.minimum(
        np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n), side="right"),
        len(names) - 1,
    )
    journey_tracker = codes[pick]
    dual = (journey_tracker != GA4) & (rng.random(n) < DUAL_TRACKED) & ("ga4" in shares)
    s, t = cohort.steps, cohort.times
    first_step = np.searchsorted(s.journey, s.journey, side="left")
    first_session = t.session_step == first_step
    step_tracker = np.where(dual[s.journey] & first_session, GA4, journey_tracker[s.journey])
    return step_tracker[cohort.events.step].astype(np.int8)


def writer_for(name: str) -> SiteWriter:
    """The tracker's export writer, imported when first needed."""
    if name == "segment":
        from .segment_export import write_segment

        return write_segment
    if name == "snowplow":
        from .snowplow_export import write_snowplow

        return write_snowplow
    if name == "generic":
        from .generic_export import write_generic

        return write_generic
    raise ValueError(f"no site-event writer for {name!r}")
