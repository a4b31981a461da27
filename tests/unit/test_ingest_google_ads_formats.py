"""Google Ads reports written carelessly or in another locale: read right, or quarantined with
the reason, never silently dropped, summed or misread."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import load_google_ads

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DECIMAL_COMMA = FIXTURES / "google_ads_locales" / "ui_report_decimal_comma.csv"
DAY_FIRST = FIXTURES / "google_ads_locales" / "ui_report_day_first.csv"
CARELESS = FIXTURES / "google_ads_bad" / "careless_export.csv"
LOADED_AT = datetime(2024, 1, 7, 5, 0)
UI_HEADER = "Day,Campaign,Campaign ID,Ad group ID,Ad ID,Currency code,Impr.,Clicks,Cost"


def load(con, files, dates=None):
    return load_google_ads(con, [Path(f) for f in files], dates, LOADED_AT)


def loaded(con, result) -> dict[int, dict]:
    """Loaded rows by source line."""
    cursor = con.execute(f"select * from {result.table}")
    names = [d[0] for d in cursor.description]
    return {
        r[names.index("source_line")]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()
    }


def reasons(con, result) -> dict[int | None, str]:
    """Quarantine reasons by source line."""
    return dict(
        con.execute(f"select source_line, reason from {result.quarantine_table}").fetchall()
    )


def ui_report(tmp_path: Path, *rows: str, title: str = "All time", name: str = "r.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(["Ad report", title, UI_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


# --- number styles ---------------------------------------------------------------------------


def test_a_decimal_comma_download_reads_1_234_56_as_one_thousand_two_hundred(con):
    result = load(con, [DECIMAL_COMMA])
    rows = loaded(con, result)
    assert (rows[4]["impressions"], rows[4]["clicks"], rows[4]["spend"]) == (1834, 61, 1234.56)
    assert (rows[4]["conversions"], rows[4]["conversion_value"]) == (2.0, 259.9)
    # '1.234' alone is ambiguous, but this file's other values say '.' groups thousands.
    assert (rows[6]["impressions"], rows[6]["clicks"], rows[6]["spend"]) == (12210, 1049, 1234.0)
    assert result.quarantined == 0
    assert result.for_file(DECIMAL_COMMA).landed == 3  # the totals row is not data


def test_dotted_days_are_read_day_first(con):
    rows = loaded(con, load(con, [DECIMAL_COMMA]))
    assert [rows[n]["report_date"] for n in (4, 5, 6)] == [
        date(2024, 1, 5),
        date(2024, 1, 5),
        date(2024, 1, 6),
    ]


@pytest.mark.parametrize(
    ("cost", "other", "expected"),
    [
        ('"1,234.56"', "12.50", 1234.56),  # thousands comma, decimal point
        ('"1.234,56"', '"12,50"', 1234.56),  # thousands dot, decimal comma
        ('"1 234,56"', '"12,50"', 1234.56),  # thousands space, decimal comma (fr)
        ('"1\u00a0234,56"', '"12,50"', 1234.56),  # no-break space (what Excel writes)
        ("1'234.56", "12.50", 1234.56),  # Swiss apostrophe
        ('"1,234,567"', "12.50", 1234567.0),  # two groups: only a thousands separator
        ('"1.234.567"', '"12,50"', 1234567.0),
        ('"0,500"', '"12,50"', 0.5),  # a leading 0 never starts a thousands group
    ],
)
def test_each_number_style_is_read_from_the_file_s_own_evidence(
    con, tmp_path, cost, other, expected
):
    path = ui_report(
        tmp_path,
        f"2024-01-05,a,1,11,111,USD,10,1,{cost}",
        f"2024-01-05,b,2,22,222,USD,10,1,{other}",
    )
    result = load(con, [path])
    assert reasons(con, result) == {}
    assert loaded(con, result)[4]["spend"] == pytest.approx(expected)


def test_an_ambiguous_number_with_no_evidence_in_the_file_is_quarantined_not_guessed(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,1.234",
        "2024-01-05,b,2,22,222,USD,10,1,5",
    )
    result = load(con, [path])
    reason = reasons(con, result)[4]
    assert reason.startswith("ambiguous number in Cost: 1.234 (decimal or thousands separator?)")
    assert sorted(loaded(con, result)) == [5]


def test_a_thousands_group_in_a_whole_number_column_decides_the_style(con, tmp_path):
    # '1,834' impressions cannot be 1.834 impressions: the comma groups thousands, so the
    # ambiguous cost '1,234' in the same file is 1234 too.
    path = ui_report(tmp_path, '2024-01-05,a,1,11,111,USD,"1,834",1,"1,234"')
    result = load(con, [path])
    assert reasons(con, result) == {}
    assert loaded(con, result)[4]["spend"] == 1234.0


def test_a_semicolon_download_with_no_other_evidence_reads_a_decimal_comma(con, tmp_path):
    path = tmp_path / "excel_de.csv"
    path.write_text(
        "Ad report\nAll time\n" + UI_HEADER.replace(",", ";") + "\n"
        "2024-01-05;a;1;11;111;EUR;10;1;1.234\n",
        encoding="utf-8",
    )
    result = load(con, [path])
    assert reasons(con, result) == {}
    assert loaded(con, result)[4]["spend"] == 1234.0


def test_rows_whose_number_style_conflicts_with_the_file_are_quarantined(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,12.50",
        "2024-01-05,b,2,22,222,USD,10,1,3.25",
        '2024-01-05,c,3,33,333,USD,10,1,"1.234,56"',
    )
    result = load(con, [path])
    assert reasons(con, result) == {
        6: "number style conflict in Cost: 1.234,56 uses a decimal comma, but the file's "
        "other numbers use a decimal point (2 row(s) with a decimal point)"
    }
    assert sorted(loaded(con, result)) == [4, 5]


def test_a_file_with_as_many_rows_in_each_number_style_loads_neither(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,12.50",
        '2024-01-05,b,2,22,222,USD,10,1,"3,25"',
        "2024-01-05,c,3,33,333,USD,10,1,7",
    )
    result = load(con, [path])
    bad = reasons(con, result)
    assert sorted(bad) == [4, 5]
    assert all("its number style is ambiguous" in r for r in bad.values())
    assert sorted(loaded(con, result)) == [6]


def test_a_fraction_in_a_whole_number_column_is_quarantined(con, tmp_path):
    path = ui_report(tmp_path, '2024-01-05,a,1,11,111,USD,"12,5",1,"3,25"')
    result = load(con, [path])
    assert reasons(con, result) == {4: "unparseable Impr.: 12,5 (not a whole number)"}


# --- date order ------------------------------------------------------------------------------


def test_01_03_2024_is_1_march_when_another_day_of_the_file_is_above_12(con, tmp_path):
    path = ui_report(
        tmp_path,
        "01/03/2024,a,1,11,111,USD,10,1,5",
        "13/03/2024,b,2,22,222,USD,10,1,5",
    )
    rows = loaded(con, load(con, [path]))
    assert (rows[4]["report_date"], rows[5]["report_date"]) == (date(2024, 3, 1), date(2024, 3, 13))


def test_01_03_2024_is_3_january_when_another_day_is_month_first(con, tmp_path):
    path = ui_report(
        tmp_path,
        "01/03/2024,a,1,11,111,USD,10,1,5",
        "01/13/2024,b,2,22,222,USD,10,1,5",
    )
    rows = loaded(con, load(con, [path]))
    assert (rows[4]["report_date"], rows[5]["report_date"]) == (date(2024, 1, 3), date(2024, 1, 13))


def test_the_download_s_date_range_line_decides_the_day_order(con):
    result = load(con, [DAY_FIRST])
    rows = loaded(con, result)
    # 05/01 and 12/01 can only be in "5 January 2024 - 12 January 2024" read day first.
    assert (rows[4]["report_date"], rows[5]["report_date"]) == (date(2024, 1, 5), date(2024, 1, 12))
    # 01/12 fits the range only month first: it contradicts the file and is quarantined.
    assert reasons(con, result) == {
        6: "date order conflict in Day: 01/12/2024 can only be month first (mm/dd/yyyy), but "
        "the file's other days are day first (dd/mm/yyyy) (2 day-first row(s))"
    }


def test_an_ambiguous_day_with_no_evidence_is_quarantined_not_guessed(con, tmp_path):
    path = ui_report(
        tmp_path,
        "01/03/2024,a,1,11,111,USD,10,1,5",
        "05/05/2024,b,2,22,222,USD,10,1,5",  # the same day either way: no doubt, no evidence
    )
    result = load(con, [path])
    assert reasons(con, result)[4].startswith(
        "ambiguous date in Day: 01/03/2024 (day or month first?)"
    )
    assert loaded(con, result)[5]["report_date"] == date(2024, 5, 5)


def test_a_day_outside_the_download_s_date_range_is_quarantined(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,5",
        "2024-02-05,b,2,22,222,USD,10,1,5",
        title='"January 5, 2024 - January 6, 2024"',
    )
    result = load(con, [path])
    assert reasons(con, result) == {
        5: "Day 2024-02-05 is outside the report's date range 2024-01-05 .. 2024-01-06"
    }


# --- totals, duplicates, negatives, ragged rows ---------------------------------------------


def test_a_campaign_named_total_is_data_and_the_ui_totals_rows_are_not(con):
    result = load(con, [DAY_FIRST])
    names = {r["campaign_name"] for r in loaded(con, result).values()}
    assert names == {"Total brand protection"}
    assert result.for_file(DAY_FIRST).landed == 3  # two 'Total: ...' rows are not data


def test_a_totals_shaped_row_with_a_campaign_id_is_data(con, tmp_path):
    # Campaign first: a campaign literally named "Total: Account" still has its id.
    path = tmp_path / "campaign_first.csv"
    path.write_text(
        "Ad report\nAll time\nCampaign,Day,Campaign ID,Impr.,Clicks,Cost\n"
        "Total: Account,2024-01-05,42,10,1,5.00\n"
        "Total: Account,--,--,10,1,5.00\n"
    )
    result = load(con, [path])
    assert [r["campaign_id"] for r in loaded(con, result).values()] == ["42"]
    assert result.for_file(path).landed == 1


def test_an_exact_duplicate_line_is_quarantined_not_summed(con):
    result = load(con, [CARELESS])
    assert reasons(con, result)[3] == "duplicate of line 2"
    spring = [r for r in loaded(con, result).values() if r["campaign_id"] == "21384756"]
    assert [(r["impressions"], r["spend"]) for r in spring] == [(1834, 36.15)]


def test_negative_cost_impressions_and_clicks_are_quarantined(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,-5.00",
        "2024-01-05,b,2,22,222,USD,-10,1,5.00",
        "2024-01-05,c,3,33,333,USD,10,\u22121,5.00",  # a Unicode minus sign
    )
    result = load(con, [path])
    assert reasons(con, result) == {
        4: "negative Cost: -5.00",
        5: "negative Impr.: -10",
        6: "negative Clicks: \u22121",
    }
    assert reasons(con, load(con, [CARELESS]))[4] == "negative metrics.cost_micros: -24570000"


def test_ragged_rows_and_a_truncated_last_line_are_quarantined_with_their_line(con):
    result = load(con, [CARELESS])
    bad = reasons(con, result)
    assert bad[6] == "expected 11 fields, found 12"
    assert bad[8] == "expected 11 fields, found 8 (the last line of the file: truncated?)"


def test_a_short_row_is_quarantined_even_when_its_date_field_is_missing(con, tmp_path):
    # The date is the 6th field; a row cut before it used to vanish without a trace.
    path = tmp_path / "short.csv"
    path.write_text(CARELESS.read_text().splitlines()[0] + "\n2121450128,Example Shoes,USD\n")
    result = load(con, [path])
    assert reasons(con, result) == {
        2: "expected 11 fields, found 3 (the last line of the file: truncated?)"
    }
    assert result.for_file(path).landed == 1


def test_an_unterminated_quote_is_quarantined(con, tmp_path):
    path = ui_report(tmp_path, '2024-01-05,a,1,11,111,USD,10,1,"1,234.5')
    result = load(con, [path])
    assert reasons(con, result)[4].startswith("unterminated quoted field")


# --- currencies ------------------------------------------------------------------------------


def test_a_row_in_another_currency_than_its_account_is_quarantined(con):
    result = load(con, [CARELESS])
    assert reasons(con, result)[5] == (
        "currency EUR differs from account 2121450128's currency USD (rows: USD 5, EUR 1)"
    )


def test_accounts_in_different_currencies_load_with_a_warning(con):
    result = load(con, [CARELESS])
    eu = [r for r in loaded(con, result).values() if r["account_id"] == "3456789012"]
    assert [r["currency"] for r in eu] == ["EUR"]
    (warning,) = result.warnings
    assert "2121450128 USD" in warning and "3456789012 EUR" in warning
    assert "not converted" in warning


def test_an_account_with_as_many_rows_in_two_currencies_loads_neither(con, tmp_path):
    path = ui_report(
        tmp_path,
        "2024-01-05,a,1,11,111,USD,10,1,5.00",
        "2024-01-05,b,2,22,222,EUR,10,1,5.00",
    )
    result = load(con, [path])
    bad = reasons(con, result)
    assert sorted(bad) == [4, 5]
    assert all("has rows in several currencies (EUR 1, USD 1)" in r for r in bad.values())


def test_every_line_of_a_careless_export_is_loaded_or_quarantined(con):
    result = load(con, [CARELESS])
    counts = result.for_file(CARELESS)
    assert (counts.landed, counts.loaded, counts.quarantined) == (7, 2, 5)
    assert sorted(loaded(con, result)) == [2, 7]


def test_each_file_s_decided_number_style_and_day_order_are_reported(con):
    described = load(con, [DECIMAL_COMMA, DAY_FIRST]).describe()
    assert "ui_report_decimal_comma.csv: decimal comma (3 row(s) with a decimal comma)" in described
    assert (
        "ui_report_day_first.csv: decimal point (3 row(s) with a decimal point); numeric days "
        "day first (2 day-first row(s))"
    ) in described
