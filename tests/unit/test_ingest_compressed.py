"""Truncated or corrupt .gz exports are quarantined whole: never loaded as a silent partial day."""

from __future__ import annotations

import gzip
import zlib
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import load_ga4_day, load_google_ads
from pipelines.lib.ingest.compression import gzip_problem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GA4_DAY = FIXTURES / "ga4" / "events_20240105.json"
ADS_UI = FIXTURES / "google_ads" / "ui_ad_report.csv"
EXPORT_DATE = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)


def many_lines() -> bytes:
    """The GA4 fixture repeated: big enough that half the gzip stream holds whole lines."""
    return GA4_DAY.read_bytes() * 200


def truncated(data: bytes, path: Path) -> Path:
    packed = gzip.compress(data)
    path.write_bytes(packed[: len(packed) // 2])
    return path


def flipped(data: bytes, path: Path) -> Path:
    packed = bytearray(gzip.compress(data))
    packed[len(packed) // 2] ^= 0xFF
    path.write_bytes(bytes(packed))
    return path


def load_ga4(con, files):
    return load_ga4_day(con, [Path(f) for f in files], EXPORT_DATE, "UTC", LOADED_AT)


def quarantine(con, result) -> list[tuple]:
    return con.execute(
        f"select source_file, source_line, reason, raw_record from {result.quarantine_table}"
    ).fetchall()


def test_duckdb_alone_would_load_a_truncated_gzip_in_part(con, tmp_path):
    """Why the check exists: DuckDB's gzip reader stops quietly at the cut."""
    path = truncated(many_lines(), tmp_path / "events_20240105.json.gz")
    (count,) = con.execute(
        f"select count(*) from read_csv('{path}', columns = {{'l': 'VARCHAR'}}, header = false, "
        "delim = '\x1f', quote = '', escape = '')"
    ).fetchone()
    assert 0 < count < len(many_lines().splitlines())


def test_a_truncated_gzip_export_is_quarantined_whole_and_nothing_of_it_loads(con, tmp_path):
    path = truncated(many_lines(), tmp_path / "events_20240105.json.gz")
    result = load_ga4(con, [GA4_DAY, path])
    counts = result.for_file(path)
    assert (counts.landed, counts.loaded, counts.quarantined) == (1, 0, 1)
    assert result.for_file(GA4_DAY).loaded == 8  # the good file of the day still loads
    ((source_file, source_line, reason, raw_record),) = quarantine(con, result)
    assert (source_file, source_line, raw_record) == (str(path), None, None)
    assert reason.startswith("truncated gzip stream")
    assert "quarantined whole" in reason
    assert result.unreadable_files == ((str(path), reason),)
    assert f"quarantined whole: {path}" in result.describe()


def test_a_gzip_export_with_a_corrupt_byte_is_quarantined_whole(con, tmp_path):
    path = flipped(many_lines(), tmp_path / "events_20240105.json.gz")
    result = load_ga4(con, [path])
    ((_, _, reason, _),) = quarantine(con, result)
    assert reason.startswith("corrupt gzip data")
    assert (result.loaded, result.quarantined) == (0, 1)


def test_a_file_named_gz_that_is_not_gzip_is_quarantined_whole(con, tmp_path):
    path = tmp_path / "events_20240105.json.gz"
    path.write_bytes(GA4_DAY.read_bytes())
    result = load_ga4(con, [path])
    ((_, _, reason, _),) = quarantine(con, result)
    assert reason.startswith("named .gz but not gzip data")


def test_bytes_after_the_last_gzip_member_quarantine_the_file(con, tmp_path):
    path = tmp_path / "events_20240105.json.gz"
    path.write_bytes(gzip.compress(GA4_DAY.read_bytes()) + b"\x00" * 64)
    result = load_ga4(con, [path])
    ((_, _, reason, _),) = quarantine(con, result)
    assert "followed by bytes that are not gzip data" in reason


def test_a_multi_member_gzip_is_read_whole(con, tmp_path):
    lines = GA4_DAY.read_bytes().splitlines(keepends=True)
    path = tmp_path / "events_20240105.json.gz"
    path.write_bytes(gzip.compress(b"".join(lines[:3])) + gzip.compress(b"".join(lines[3:])))
    result = load_ga4(con, [path])
    assert (result.loaded, result.quarantined) == (8, 0)
    assert result.unreadable_files == ()


def test_gzip_content_without_a_gz_name_is_read_as_gzip(con, tmp_path):
    path = tmp_path / "events_20240105.json"
    path.write_bytes(gzip.compress(GA4_DAY.read_bytes()))
    assert load_ga4(con, [path]).loaded == 8


def test_a_truncated_gzip_google_ads_report_is_quarantined_whole(con, tmp_path):
    text = ADS_UI.read_bytes()
    path = truncated(text + text.split(b"\n", 3)[3] * 100, tmp_path / "ui_ad_report.csv.gz")
    result = load_google_ads(con, [ADS_UI, path], None, LOADED_AT)
    counts = result.for_file(path)
    assert (counts.landed, counts.loaded, counts.quarantined) == (1, 0, 1)
    ((_, source_line, reason, _),) = quarantine(con, result)
    assert source_line is None and reason.startswith("truncated gzip stream")
    assert result.for_file(ADS_UI).loaded == 5


@pytest.mark.parametrize("level", [1, 9])
def test_gzip_problem_is_none_for_an_intact_file(tmp_path, level):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(many_lines(), compresslevel=level))
    assert gzip_problem(path) is None


def test_gzip_problem_names_a_crc_mismatch(tmp_path):
    data = many_lines()
    packed = bytearray(gzip.compress(data))
    packed[-8:-4] = (zlib.crc32(data) ^ 1).to_bytes(4, "little")  # wrong CRC-32 trailer
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(packed))
    assert gzip_problem(path) == "corrupt gzip data: CRC-32 mismatch in member 1"


def test_gzip_problem_names_a_length_mismatch(tmp_path):
    data = many_lines()
    packed = bytearray(gzip.compress(data))
    packed[-4:] = (len(data) + 1).to_bytes(4, "little")  # wrong ISIZE trailer
    path = tmp_path / "x.gz"
    path.write_bytes(bytes(packed))
    assert gzip_problem(path) == "corrupt gzip data: length mismatch in member 1"


def test_a_truncated_parquet_export_is_quarantined_whole(con, tmp_path):
    parquet = tmp_path / "events_20240105.parquet"
    con.execute(f"copy (select 'page_view' as event_name, 1 as x) to '{parquet}' (format parquet)")
    parquet.write_bytes(parquet.read_bytes()[:-20])
    result = load_ga4(con, [parquet])
    ((_, source_line, reason, _),) = quarantine(con, result)
    assert source_line is None and reason.startswith("cannot read Parquet")
    assert result.for_file(parquet).landed == 1
