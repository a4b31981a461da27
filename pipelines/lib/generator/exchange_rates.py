"""Exchange rates for the generated accounts' currencies, as a rates file in the landing zone.

Like a central bank's reference rates: one fixing per weekday (none on weekends, so the
pipeline's "newest rate on or before the day" rule is exercised), quoted against USD, drifting
a little around each account's fixed demo rate. Written from a few days before the first day,
so a range starting on a Monday still has the Friday before it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .catalog import CURRENCY, Platform

FOLDER = "exchange_rates"
LEAD_DAYS = 4


def rates_path(landing_dir: Path) -> Path:
    return landing_dir / FOLDER / "rates.csv"


def write_rates(
    landing_dir: Path, start: date, end: date, platforms: Iterable[Platform], seed: int
) -> Path | None:
    """`date,base_currency,quote_currency,rate` for every non-USD account currency; None (and
    no file) when every account is in USD."""
    currencies = sorted({(p.currency, p.usd_per_unit) for p in platforms if p.currency != CURRENCY})
    if not currencies:
        return None
    days = [start - timedelta(days=LEAD_DAYS) + timedelta(days=i) for i in range(
        (end - start).days + LEAD_DAYS + 1
    )]  # fmt: skip
    weekdays = [d for d in days if d.weekday() < 5]
    rng = np.random.default_rng([seed, 4217])
    rows: list[list[object]] = [["date", "base_currency", "quote_currency", "rate"]]
    for currency, usd_per_unit in currencies:
        drift = np.cumsum(rng.normal(0.0, 0.002, len(weekdays)))
        for day, step in zip(weekdays, drift, strict=True):
            rows.append([day.isoformat(), currency, CURRENCY, f"{usd_per_unit * (1 + step):.4f}"])
    path = rates_path(landing_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    tmp.replace(path)
    return path
