"""Expand journey steps into timed GA4 events (numpy, vectorised over all steps)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import templates as tpl
from .journeys import Journeys, Steps


@dataclass
class Events:
    step: np.ndarray  # index into Steps
    journey: np.ndarray
    name: np.ndarray  # index into templates.EVENT_NAMES
    engagement_ms: np.ndarray  # 0 when the event reports no engaged time
    detail: np.ndarray  # quiz_step / video_percent / percent_scrolled
    ts_us: np.ndarray
    position: np.ndarray  # position within its step


@dataclass
class StepTimes:
    start_us: np.ndarray
    session_step: np.ndarray  # the step that opened this step's session
    session_number: np.ndarray  # ga_session_number
    page_step: np.ndarray  # the step whose page this step's events are on
    logged_in: np.ndarray  # user_id known (signed up earlier in the journey, or before)


def _segment_first(keys: np.ndarray) -> np.ndarray:
    """For sorted group keys, the index of each row's group start."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    return np.repeat(starts, np.diff(np.r_[starts, len(keys)]))


def _engaged_ms(rng: np.random.Generator, cls: np.ndarray) -> np.ndarray:
    n = len(cls)
    short = rng.integers(300, 9_000, n)
    long_ = 10_000 + np.clip(rng.lognormal(np.log(25_000), 0.8, n), 0, 590_000)
    medium = np.clip(rng.lognormal(np.log(20_000), 0.6, n), 3_000, 120_000)
    out = np.select(
        [cls == tpl.SHORT, cls == tpl.LONG, cls == tpl.MEDIUM], [short, long_, medium], 0
    )
    return out.astype(np.int64)


def expand_events(rng: np.random.Generator, j: Journeys, s: Steps) -> tuple[Events, StepTimes]:
    table = tpl.template_table()
    lengths = np.array(table.lengths)[s.kind]
    n_events = int(lengths.sum())
    step_of = np.repeat(np.arange(len(s)), lengths)
    first_of_step = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(n_events) - first_of_step
    row = np.array(table.offsets)[s.kind][step_of] + position

    name = np.array(table.event)[row]
    engagement = _engaged_ms(rng, np.array(table.engagement)[row])
    # Engaged time passes before the event that reports it; page loads share one timestamp.
    gap = (engagement * 1000 * rng.uniform(1.0, 1.3, n_events)).astype(np.int64)
    gap[position == 0] = 0
    within = np.cumsum(gap)
    within -= within[first_of_step]
    duration = np.add.reduceat(gap, np.cumsum(lengths) - lengths) if len(s) else gap

    first_step = _segment_first(s.journey)
    is_first = first_step == np.arange(len(s))
    prev_duration = np.r_[0, duration[:-1]]
    advance = np.where(is_first, 0, s.gap_us + prev_duration)
    cum = np.cumsum(advance)
    start = j.start_us[s.journey] + cum - cum[first_step]

    idx = np.arange(len(s))
    session_step = np.maximum.accumulate(np.where(s.is_session_start, idx, 0))
    sessions = np.cumsum(s.is_session_start)
    session_number = j.prior_sessions[s.journey] + sessions - sessions[first_step] + 1
    navigates = np.array(table.navigates)[s.kind]
    page_step = np.maximum.accumulate(np.where(navigates, idx, 0))
    signs = np.isin(s.kind, [tpl.KIND["purchase"], tpl.KIND["sign_up"]])
    c = np.cumsum(signs)
    signed = (c - (c[first_step] - signs[first_step])) > 0
    logged_in = j.logged_in[s.journey] | signed

    events = Events(
        step=step_of,
        journey=s.journey[step_of],
        name=name,
        engagement_ms=engagement,
        detail=np.array(table.detail)[row],
        ts_us=start[step_of] + within,
        position=position,
    )
    times = StepTimes(start, session_step, session_number.astype(np.int64), page_step, logged_in)
    return events, times


def events_per_journey(s: Steps, n_journeys: int) -> np.ndarray:
    """How many events each journey will fire (to size a cohort before timing it)."""
    lengths = np.array(tpl.template_table().lengths)[s.kind]
    return np.bincount(s.journey, weights=lengths, minlength=n_journeys).astype(np.int64)
