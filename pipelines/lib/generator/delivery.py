"""Which daily export file each event lands in: most on time, some late, a few twice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Deliveries:
    row: np.ndarray  # event index within the cohort
    day: np.ndarray  # ordinal of the export file's day
    is_copy: np.ndarray  # the second, identical delivery of a duplicated event

    def take(self, mask: np.ndarray) -> Deliveries:
        return Deliveries(self.row[mask], self.day[mask], self.is_copy[mask])


def plan_deliveries(
    rng: np.random.Generator, event_day: np.ndarray, late_share: float, duplicate_share: float
) -> Deliveries:
    """Late events arrive 1-3 days after their event_date (GA4 accepts up to 3); duplicates
    arrive again in the same file or the next day's."""
    n = len(event_day)
    late = rng.random(n) < late_share
    day = event_day + np.where(late, rng.integers(1, 4, n), 0)
    dup = np.flatnonzero(rng.random(n) < duplicate_share)
    # A second copy never arrives later than GA4 accepts (3 days after the event).
    dup_day = np.minimum(day[dup] + rng.integers(0, 2, len(dup)), event_day[dup] + 3)
    return Deliveries(
        row=np.concatenate([np.arange(n), dup]),
        day=np.concatenate([day, dup_day]),
        is_copy=np.concatenate([np.zeros(n, bool), np.ones(len(dup), bool)]),
    )
