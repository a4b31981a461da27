"""DuckDB error messages quote the rows they fail on: what reaches an exception is redacted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest.errors import IngestError, duckdb_errors_redacted, redacted

RAW_ID = "1785412345.RAWID42"


def duckdb_error(sql: str) -> duckdb.Error:
    with pytest.raises(duckdb.Error) as caught:
        duckdb.connect().execute(sql)
    assert RAW_ID in str(caught.value)  # DuckDB itself quotes the data
    return caught.value


def csv_read_error(tmp_path: Path) -> duckdb.Error:
    path = tmp_path / "events.json"
    path.write_bytes(b'{"user_pseudo_id": "' + RAW_ID.encode() + b'", "x": "caf\xe9"}\n')
    return duckdb_error(
        f"select * from read_csv('{path}', columns = {{'l': 'VARCHAR'}}, header = false, "
        "auto_detect = false, delim = '\x1f', quote = '', escape = '')"
    )


@pytest.mark.parametrize(
    "sql",
    [
        f"select cast('{RAW_ID}' as integer)",
        f"""select '{{"user_pseudo_id": "{RAW_ID}"'::json""",
        f"""select json_transform_strict('{{"a": "{RAW_ID}"}}', '{{"b": "VARCHAR"}}')""",
        f"select strptime('{RAW_ID}', '%Y')",
    ],
)
def test_a_redacted_duckdb_error_keeps_its_kind_but_no_quoted_value(sql):
    message = redacted(duckdb_error(sql))
    assert RAW_ID not in message
    assert message.split(":")[0].endswith(("Exception", "Error"))


def test_a_redacted_csv_error_keeps_the_line_number_not_the_line(tmp_path):
    message = redacted(csv_read_error(tmp_path))
    assert RAW_ID not in message
    assert "Line: 1" in message


def test_duckdb_errors_redacted_raises_an_ingest_error_without_the_original_as_cause(tmp_path):
    error = csv_read_error(tmp_path)
    with pytest.raises(IngestError) as caught, duckdb_errors_redacted("ga4 2024-01-05"):
        raise error
    assert str(caught.value).startswith("ga4 2024-01-05: ")
    assert RAW_ID not in str(caught.value)
    # Dagster records the cause chain: the original (quoting) error must not be reachable.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
