"""Google Ads CSV reports -> canonical `ad_performance` rows plus quarantine.

Two real shapes are accepted, told apart by the header (google_ads_layout.py declares them):
API/GAQL results and the UI download (title and date-range lines, display names,
locale-formatted numbers and days, `Total` rows). The shared ad report loader (ad_report.py)
reads them: raw numbered lines split and typed in SQL, so every rejected row carries its
physical line number.

Within a file, rows with the same key that differ (a report segmented by device, network or
hour) are summed; an exact repeat of a line is quarantined instead. Across files the last file
in sorted path order wins (a restatement). A truncated or corrupt .gz file is quarantined whole.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .ad_report import load_ad_report
from .google_ads_layout import GOOGLE_ADS
from .result import IngestResult

SOURCE = GOOGLE_ADS.source


def load_google_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest Google Ads report CSVs (optionally .gz) into two temp tables named in the result.

    `dates` keeps only those report dates (None: all); rows of other dates are out of scope and
    not counted as landed. Rows whose date cannot be parsed are quarantined with no partition.
    """
    return load_ad_report(con, GOOGLE_ADS, files, dates, loaded_at)
