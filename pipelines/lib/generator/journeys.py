"""Simulate one cohort day of visitor journeys as step arrays (numpy, no per-row Python).

A journey is one visitor's run through the funnel from a landing. It is laid out as a fixed
grid of step slots, [landing, (new session), first action, (new session), engagement, ...,
conversion, return visit], and the slots a visitor reaches are kept in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog as cat
from . import templates as tpl

US = 1_000_000
DAY_US = 86_400 * US

# Visits by hour of day (UTC): quiet at night, peaks at lunch and in the evening.
HOURLY = np.array(
    [
        2,
        1.5,
        1,
        1,
        1,
        1.5,
        2.5,
        3.5,
        4.5,
        5,
        5.5,
        6,
        6.5,
        6,
        5.5,
        5.5,
        5.5,
        6,
        6.5,
        7,
        7.5,
        7,
        5,
        3.5,
    ]
)
# Chance that a stage is reached in a later session rather than the same one (stages 2..5).
MICRO_NEW_SESSION = (0.05, 0.12, 0.30, 0.35)
DIRECT_CONVERT_LATER = 0.20
DIRECT_BROWSE = 0.35
RETURN_VISIT = 0.12
PAID_RECLICK = 0.35
RETURNING_USER = 0.22
LOGGED_IN_RETURNING = 0.40


@dataclass
class Journeys:
    start_us: np.ndarray  # int64 UTC microseconds of the landing
    campaign: np.ndarray  # index into the Lineup's campaigns, -1 for unpaid
    ad: np.ndarray  # index into the Lineup's ads, -1 for unpaid
    organic_source: np.ndarray  # index into catalog.ORGANIC_SOURCES, -1 for paid
    is_returning: np.ndarray  # visitor known before this journey
    prior_sessions: np.ndarray
    first_touch_us: np.ndarray
    device: np.ndarray
    geo: np.ndarray
    pseudo_id: np.ndarray  # random part of user_pseudo_id
    user_number: np.ndarray  # numeric part of user_id
    logged_in: np.ndarray  # user_id known from the start
    product: np.ndarray
    conversion: np.ndarray  # catalog.PURCHASE / SIGN_UP / LEAD, -1 when not converted

    def __len__(self) -> int:
        return len(self.start_us)


@dataclass
class Steps:
    journey: np.ndarray
    kind: np.ndarray  # index into templates.STEP_KINDS
    is_session_start: np.ndarray
    is_paid_entry: np.ndarray  # landing from an ad click (carries gclid and UTMs)
    page: np.ndarray  # page index for navigating steps, -1 otherwise
    gap_us: np.ndarray  # time since the previous step of the journey ended

    def __len__(self) -> int:
        return len(self.journey)


def _pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return (u[:, None] >= cum).sum(axis=1)


def _mix_table(field: str, lineup: cat.Lineup) -> np.ndarray:
    """Per-campaign variant weights, with the organic mix as the last row."""
    rows = [getattr(c, f"{field}_mix") for c in lineup.campaigns]
    rows.append(cat.ORGANIC_MIX[field])
    return np.array(rows, dtype=float)


def simulate_journeys(
    rng: np.random.Generator, day_start_us: int, n: int, lineup: cat.Lineup
) -> Journeys:
    hour = rng.choice(24, size=n, p=HOURLY / HOURLY.sum())
    start = day_start_us + hour * 3600 * US + rng.integers(0, 3600 * US, size=n)

    paid = rng.random(n) < cat.PAID_SHARE
    shares = np.array(lineup.weights)
    campaign = np.where(paid, rng.choice(len(shares), size=n, p=shares / shares.sum()), -1)
    ad = np.where(
        paid, campaign * len(cat.AD_GROUPS) * cat.ADS_PER_GROUP + rng.integers(0, 4, size=n), -1
    )
    org_w = np.array([s[0] for s in cat.ORGANIC_SOURCES])
    organic = np.where(paid, -1, rng.choice(len(org_w), size=n, p=org_w / org_w.sum()))

    returning = rng.random(n) < RETURNING_USER
    prior = np.where(returning, rng.integers(1, 9, size=n), 0)
    first_touch = np.where(
        returning, start - rng.integers(DAY_US, 90 * DAY_US, size=n), start
    ).astype(np.int64)
    dev_w = np.array([d[0] for d in cat.DEVICES])
    geo_w = np.array([g[0] for g in cat.GEOS])
    return Journeys(
        start_us=start.astype(np.int64),
        campaign=campaign,
        ad=ad,
        organic_source=organic,
        is_returning=returning,
        prior_sessions=prior,
        first_touch_us=first_touch,
        device=rng.choice(len(dev_w), size=n, p=dev_w / dev_w.sum()),
        geo=rng.choice(len(geo_w), size=n, p=geo_w / geo_w.sum()),
        pseudo_id=rng.integers(100_000_000, 2_147_483_647, size=n),
        user_number=rng.integers(10_000_000, 99_999_999, size=n),
        logged_in=returning & (rng.random(n) < LOGGED_IN_RETURNING),
        product=rng.integers(0, len(cat.PRODUCTS), size=n),
        conversion=np.full(n, -1),
    )


# Grid columns: stage steps at even positions 2..8, the optional new session before each.
_LAND, _RET, _NCOLS = 0, 9, 10


def simulate_steps(rng: np.random.Generator, j: Journeys, lineup: cat.Lineup) -> Steps:
    n = len(j)
    paid = j.campaign >= 0
    campaigns = lineup.campaigns
    row = np.where(paid, j.campaign, len(campaigns))  # mix row; organic is the last
    is_micro_c = np.array([c.is_micro for c in campaigns] + [True])
    micro = is_micro_c[row]

    cont = np.array([c.continuation for c in campaigns] + [cat.ORGANIC_CONTINUATION])[row]
    intent = np.where(paid, np.array([a.intent for a in lineup.ads])[j.ad], 1.0)
    cont = np.clip(cont * intent[:, None], 0.0, 0.95)
    # Furthest stage 1..5 for the micro path: consecutive successes.
    advance = np.cumprod(rng.random((n, 4)) < cont, axis=1).astype(bool)
    direct_converts = rng.random(n) < cont[:, 0]
    direct_browses = rng.random(n) < DIRECT_BROWSE

    present = np.zeros((n, _NCOLS), dtype=bool)
    kind = np.zeros((n, _NCOLS), dtype=np.int64)
    present[:, _LAND] = True
    kind[:, _LAND] = np.where(j.is_returning, tpl.KIND["land_returning"], tpl.KIND["land_new"])

    stage_cols = (2, 4, 6, 8)
    kinds_by_stage = (
        (tpl.FIRST_ACTION_KINDS, _mix_table("first_action", lineup)),
        (tpl.ENGAGEMENT_KINDS, _mix_table("engagement", lineup)),
        (tpl.REINFORCEMENT_KINDS, _mix_table("reinforcement", lineup)),
        (tpl.CONVERSION_KINDS, _mix_table("conversion", lineup)),
    )
    conversion = np.full(n, -1)
    for s, col in enumerate(stage_cols):
        names, mix = kinds_by_stage[s]
        variant = _pick(rng, mix[row])
        codes = np.array([tpl.KIND[k] for k in names])[variant]
        if s == 0:
            on = np.where(micro, advance[:, 0], direct_browses)
            codes = np.where(micro, codes, tpl.KIND["browse"])
            later = micro & (rng.random(n) < MICRO_NEW_SESSION[0])
        elif s == 3:
            on = np.where(micro, advance[:, 3], direct_converts)
            p_later = np.where(micro, MICRO_NEW_SESSION[3], DIRECT_CONVERT_LATER)
            later = rng.random(n) < p_later
            conversion = np.where(on, variant, -1)
        else:
            on = micro & advance[:, s]
            later = rng.random(n) < MICRO_NEW_SESSION[s]
        present[:, col] = on
        kind[:, col] = codes
        present[:, col - 1] = on & later
        kind[:, col - 1] = tpl.KIND["entry"]
    present[:, _RET] = rng.random(n) < RETURN_VISIT
    kind[:, _RET] = tpl.KIND["return_visit"]
    j.conversion = conversion

    jr, step_col = np.nonzero(present)  # row-major: journeys in order, steps in grid order
    k = kind[jr, step_col]
    m = len(jr)
    session_start = np.isin(k, [tpl.KIND[x] for x in tpl.ENTRY_KINDS])
    paid_entry = session_start & paid[jr] & ((step_col == _LAND) | (rng.random(m) < PAID_RECLICK))

    page = _pages(rng, j, jr, k, step_col, paid_entry, lineup)
    gap = _gaps(rng, k, step_col, session_start)
    return Steps(jr, k, session_start, paid_entry, page, gap)


def _pages(
    rng: np.random.Generator,
    j: Journeys,
    jr: np.ndarray,
    k: np.ndarray,
    col: np.ndarray,
    paid_entry: np.ndarray,
    lineup: cat.Lineup,
) -> np.ndarray:
    m = len(jr)
    page = np.full(m, -1)
    for i, step_kind in enumerate(tpl.STEP_KINDS):
        if step_kind.page is not None:
            page[k == i] = cat.PAGE_INDEX[step_kind.page]
    landing_of_campaign = np.array([cat.PAGE_INDEX[c.landing_path] for c in lineup.campaigns])
    paid_land = landing_of_campaign[np.maximum(j.campaign[jr], 0)]
    org_paths = np.array([cat.PAGE_INDEX[p] for p in cat.ORGANIC_LANDING_PATHS])
    w = np.array(cat.ORGANIC_LANDING_WEIGHTS)
    org_land = org_paths[rng.choice(len(w), size=m, p=w / w.sum())]
    is_entry = np.isin(k, [tpl.KIND[x] for x in tpl.ENTRY_KINDS])
    landing = col == _LAND
    page = np.where(
        is_entry,
        np.where(paid_entry, paid_land, np.where(landing, org_land, cat.PAGE_INDEX["/"])),
        page,
    )
    product_page = np.array([cat.PAGE_INDEX[p[4]] for p in cat.PRODUCTS])[j.product[jr]]
    return np.where(k == tpl.KIND["view_item"], product_page, page)


def _gaps(
    rng: np.random.Generator, k: np.ndarray, col: np.ndarray, session_start: np.ndarray
) -> np.ndarray:
    m = len(k)
    # Across sessions: hours to days, median ~20 h; a few land beyond the 7-day window.
    across = np.clip(rng.lognormal(np.log(20 * 3600), 1.2, m), 1800, 12 * 86_400)
    # Within a session: seconds to minutes.
    within = np.clip(rng.lognormal(np.log(35), 1.0, m), 2, 1800)
    after_entry = rng.uniform(2, 25, m)
    prev_is_entry = np.zeros(m, dtype=bool)
    prev_is_entry[1:] = session_start[:-1]
    gap = np.where(session_start, across, np.where(prev_is_entry, after_entry, within))
    gap = np.where(col == _LAND, 0.0, gap)
    return (gap * US).astype(np.int64)
