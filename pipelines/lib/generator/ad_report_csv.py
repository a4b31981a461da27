"""Shared by the ad platform report writers (`<platform>_report.py`): atomic CSV writing and
the one-currency rule of a platform export."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from .source_rows import AdReportRow


def write_csv(path: Path, rows: Sequence[Sequence[object]], encoding: str = "utf-8") -> None:
    """Write `rows` to a temp file beside `path`, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    tmp.replace(path)


def one_currency(rows: Sequence[AdReportRow], platform: str) -> str:
    """The rows' currency; an export whose header names the currency holds only one."""
    currencies = sorted({r.currency for r in rows})
    if len(currencies) > 1:
        raise ValueError(
            f"a {platform} export names one currency in its header; got {', '.join(currencies)}"
            " (write one file per account currency)"
        )
    return currencies[0] if currencies else "USD"


def amount(value: float) -> str:
    """Money as the exports write it: plain, two decimals."""
    return f"{value:.2f}"


def number(value: float) -> str:
    """A count that can be fractional (modelled conversions): plain, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")
