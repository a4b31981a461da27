"""Pseudonymization at ingest, the erasure list and `purge` (library level, no pipeline run)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import load_ga4_day, write_partition
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.privacy import (
    PseudonymizationKeyError,
    erased_rows,
    protect_events,
    pseudonym_sql,
    pseudonymization_key,
)
from pipelines.lib.privacy.purge import purge_erased_users
from pipelines.lib.schemas import EVENTS_COLUMNS
from pipelines.lib.settings import (
    DEMO_PSEUDONYMIZATION_KEY,
    ENV_PSEUDONYMIZATION_KEY,
    Settings,
)

KEY = "unit-test-pseudonymization-key"
OTHER_KEY = "another-unit-test-key-0123"
DAY = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)
ANON_A = "1111111111.1704412000"
ANON_B = "2222222222.1704412000"
ANON_A2 = "3333333333.1704412000"
USER_A = "customer-42@example.com"
USER_C = "customer-77"
NO_LIST = Path("/nonexistent/erasure_list.txt")
COMPARED = ", ".join(c for c in EVENTS_COLUMNS if c != "loaded_at")


def event(anon: str, ts: int, name: str = "page_view", user_id: str | None = None) -> dict:
    row: dict = {
        "event_date": "20240105",
        "event_timestamp": str(1704412800000000 + ts * 1_000_000),
        "event_name": name,
        "user_pseudo_id": anon,
        "event_params": [
            {"key": "ga_session_id", "value": {"int_value": "1704412800"}},
            {"key": "page_location", "value": {"string_value": "https://shop.example.com/"}},
        ],
    }
    if user_id:
        row["user_id"] = user_id
    return row


def write_export(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events_20240105.json"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def sample_lines() -> list[str]:
    return [
        json.dumps(event(ANON_A, 1)),
        json.dumps(event(ANON_A, 2, "sign_up", user_id=USER_A)),
        json.dumps(event(ANON_B, 3)),
        json.dumps(event(ANON_A2, 4, user_id=USER_C)),
        # Quarantined: no event_name; and a line cut off inside the user_pseudo_id value.
        json.dumps({k: v for k, v in event(ANON_B, 5).items() if k != "event_name"}),
        '{"event_name":"page_view","event_timestamp":"1704412806000000","user_id":"'
        + USER_C
        + '","user_pseudo_id":"'
        + ANON_A2[:8],
    ]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_export(tmp_path / "landing" / "ga4", sample_lines())


def ingest(con, files, key=KEY, erasure_file=NO_LIST):
    result = load_ga4_day(con, files, DAY, "UTC", LOADED_AT)
    result = protect_events(con, result, key, erasure_file)
    return quarantine_duplicate_events(con, result)


def table_text(con, table: str) -> str:
    return "\n".join(str(row) for row in con.execute(f"select * from {table}").fetchall())


def pseudonym(con, value: str, key: str = KEY) -> str:
    with pseudonymization_key(con, key):
        return con.execute(f"select {pseudonym_sql('?::varchar')}", [value]).fetchone()[0]


def test_no_raw_user_id_reaches_the_events_or_quarantine_tables(con, export):
    result = ingest(con, [export])
    text = table_text(con, result.table) + table_text(con, result.quarantine_table)
    for raw in (ANON_A, ANON_B, ANON_A2, ANON_A2[:8], USER_A, USER_C):
        assert raw not in text
    assert result.loaded == 4 and result.quarantined == 2


def test_id_columns_hold_the_keyed_hash_and_session_ids_keep_their_session_number(con, export):
    result = ingest(con, [export])
    rows = con.execute(
        f"select anonymous_id, user_id, user_key, session_id from {result.table} "
        "order by source_line"
    ).fetchall()
    anon_a, user_a = pseudonym(con, ANON_A), pseudonym(con, USER_A)
    assert rows[0] == (anon_a, None, anon_a, f"{anon_a}.1704412800")
    assert rows[1] == (anon_a, user_a, user_a, f"{anon_a}.1704412800")
    assert len(anon_a) == 64 and anon_a != pseudonym(con, ANON_A, OTHER_KEY)


def test_the_same_input_and_key_give_the_same_rows_and_event_ids(con, export):
    first = ingest(con, [export])
    second = ingest(con, [export])
    for a, b in ((first.table, second.table), (first.quarantine_table, second.quarantine_table)):
        assert table_text(con, a) == table_text(con, b)


def test_quarantined_raw_records_keep_the_line_with_ids_replaced(con, export):
    result = ingest(con, [export])
    raw = [
        r[0] for r in con.execute(f"select raw_record from {result.quarantine_table}").fetchall()
    ]
    assert f'"user_pseudo_id":"{pseudonym(con, ANON_B)}"' in raw[0]
    assert f'"user_id":"{pseudonym(con, USER_C)}"' in raw[1]
    assert f'"user_pseudo_id":"{pseudonym(con, ANON_A2[:8])}"' in raw[1]


def test_ingestion_without_a_key_fails_naming_the_variable(con, export):
    result = load_ga4_day(con, [export], DAY, "UTC", LOADED_AT)
    with pytest.raises(PseudonymizationKeyError, match=ENV_PSEUDONYMIZATION_KEY):
        protect_events(con, result, None, NO_LIST)
    with pytest.raises(PseudonymizationKeyError, match="too short"):
        protect_events(con, result, "short", NO_LIST)


def test_the_key_is_not_left_in_the_connection_after_pseudonymizing(con, export):
    ingest(con, [export])
    assert KEY not in str(con.execute("select * from duckdb_variables()").fetchall())


def test_erased_users_are_dropped_and_counted_not_quarantined(con, export, tmp_path):
    erasure = tmp_path / "erasure_list.txt"
    erasure.write_text(f"# forget these\n{USER_A}\n\n{ANON_B}\n")
    result = ingest(con, [export], erasure_file=erasure)
    keys = {r[0] for r in con.execute(f"select anonymous_id from {result.table}").fetchall()}
    # USER_A's device ANON_A goes too (it carried the listed user_id that day), and ANON_B's
    # quarantined line; ANON_A2 / USER_C stay.
    assert keys == {pseudonym(con, ANON_A2)}
    counts = result.files[0]
    assert (counts.landed, counts.loaded, counts.quarantined, counts.erased) == (6, 1, 1, 4)
    assert erased_rows(result) == 4


def test_ingest_metadata_reports_erased_rows(con, export, tmp_path):
    from pipelines.defs.ingest.ingest_metadata import ingest_metadata

    erasure = tmp_path / "erasure_list.txt"
    erasure.write_text(f"{ANON_B}\n")
    metadata = ingest_metadata([ingest(con, [export], erasure_file=erasure)], "loaded")
    assert metadata["erased_rows"] == 2
    landed = metadata["rows_loaded"] + metadata["rows_quarantined"] + metadata["erased_rows"]
    assert metadata["rows_landed"] == 6 == landed


def test_purge_rewrites_lake_partitions_and_deletes_mart_rows_and_reingest_agrees(
    con, export, tmp_path
):
    lake = tmp_path / "warehouse" / "lake"
    result = ingest(con, [export])
    write_partition(con, result.table, lake / "events", DAY)
    write_partition(con, result.quarantine_table, lake / "events_quarantine", DAY)
    marts = tmp_path / "warehouse" / "microfunnel.duckdb"
    with duckdb.connect(str(marts)) as db:
        db.execute(
            "create table fct_funnel_journeys as select user_key, event_id "
            f"from read_parquet('{lake}/events/*/*.parquet')"
        )
    erasure = tmp_path / "erasure_list.txt"
    erasure.write_text(f"{USER_A}\n{ANON_B}\n")

    report = purge_erased_users(lake, marts, erasure, KEY)

    assert report.lake_rows == {"events": 3, "events_quarantine": 1}
    assert report.mart_rows == {"main.fct_funnel_journeys": 3}
    assert "events: 3 row(s) removed, 1 partition(s) rewritten" in report.describe()
    purged = con.execute(
        f"select {COMPARED} from read_parquet('{lake}/events/*/*.parquet', "
        "hive_partitioning = false) "
        "order by source_line"
    ).fetchall()
    # A backfill of the day with the list in place writes exactly what the purge left.
    again = ingest(con, [export], erasure_file=erasure)
    backfilled = con.execute(
        f"select {COMPARED} from {again.table} order by source_line"
    ).fetchall()
    assert len(purged) == len(backfilled) == 1
    pairs = enumerate(zip(purged[0], backfilled[0], strict=True))
    assert [(i, a, b) for i, (a, b) in pairs if a != b] == []
    assert not list((lake / "events").glob("*.tmp-*"))


def test_purge_needs_the_key(tmp_path):
    erasure = tmp_path / "erasure_list.txt"
    erasure.write_text(f"{USER_A}\n")
    with pytest.raises(PseudonymizationKeyError, match=ENV_PSEUDONYMIZATION_KEY):
        purge_erased_users(tmp_path / "lake", tmp_path / "m.duckdb", erasure, None)


def test_settings_read_the_key_and_default_the_erasure_list_into_the_warehouse(tmp_path):
    env = {"MICROFUNNEL_HOME": str(tmp_path), ENV_PSEUDONYMIZATION_KEY: KEY}
    settings = Settings.from_env(env)
    assert settings.pseudonymization_key == KEY
    assert settings.erasure_list_path == tmp_path / "warehouse" / "erasure_list.txt"
    env["MICROFUNNEL_ERASURE_FILE"] = str(tmp_path / "forget.txt")
    assert Settings.from_env(env).erasure_list_path == tmp_path / "forget.txt"


def test_demo_sets_a_public_key_only_when_none_is_set(monkeypatch, capsys):
    from pipelines import cli

    monkeypatch.delenv(ENV_PSEUDONYMIZATION_KEY, raising=False)
    demo = cli.use_demo_key_if_unset(Settings.from_env())
    assert demo.pseudonymization_key == DEMO_PSEUDONYMIZATION_KEY
    assert ENV_PSEUDONYMIZATION_KEY in capsys.readouterr().out
    monkeypatch.setenv(ENV_PSEUDONYMIZATION_KEY, KEY)
    assert cli.use_demo_key_if_unset(Settings.from_env()).pseudonymization_key == KEY


@pytest.mark.parametrize(
    "wrong_type",
    [{"id": ANON_B}, {"device": {"id": ANON_B}}, [ANON_B, 1]],
)
def test_an_id_sent_as_an_object_or_array_is_pseudonymized_whole_in_quarantine(
    con, tmp_path, wrong_type
):
    line = json.dumps(event(ANON_A, 1) | {"user_pseudo_id": wrong_type})
    export = write_export(tmp_path / "landing" / "ga4", [json.dumps(event(ANON_A, 2)), line])
    result = ingest(con, [export])
    ((reason, raw),) = con.execute(
        f"select reason, raw_record from {result.quarantine_table}"
    ).fetchall()
    assert reason.startswith("wrong JSON type: user_pseudo_id is ")
    assert ANON_B not in raw
    assert f'"user_pseudo_id":"{pseudonym(con, json.dumps(wrong_type))}"' in raw
