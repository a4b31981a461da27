"""How a UI download writes its days, decided per file: `01/03/2024` is never guessed.

Readable one way only: ISO `2024-03-01` (and `2024/03/01`), month names (`Mar 1, 2024`,
`1 March 2024`), and `01.03.2024` (every locale that writes dots puts the day first). Numeric
`a/b/yyyy` (or `a-b-yyyy`) is day-first in some locales and month-first in others, so each
file's order is decided from its own values:

- a value whose first number is above 12 is day-first, second above 12 month-first;
- with the UI download's date-range line (`"January 5, 2024 - January 6, 2024"`), a value
  with only one reading inside the range is evidence for that reading;
- `05/05/2024` reads the same either way and is never in doubt.

The order with more evidence rows wins, rows with the other order are quarantined (conflicting
evidence); without evidence a value that has two readings is quarantined as ambiguous. With a
date range, any day outside it is quarantined too (a misread day would be).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .sql import literal

DAY_FIRST = "day_first"
MONTH_FIRST = "month_first"
FIXED = "fixed"  # one reading only
AMBIGUOUS = "ambiguous"
BAD = "bad"

# Month-name spellings DuckDB's strptime reads (English names, as the UI downloads write).
NAMED_FORMATS = (
    "%b %d, %Y",
    "%B %d, %Y",
    "%a, %b %d, %Y",
    "%A, %B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
)
_NUMERIC = r"^(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})$"
_YEAR_FIRST = r"^(\d{4})([/.-])(\d{1,2})([/.-])(\d{1,2})$"
_NAMES = {DAY_FIRST: "day first (dd/mm/yyyy)", MONTH_FIRST: "month first (mm/dd/yyyy)"}


@dataclass(frozen=True)
class DateOrder:
    """One file's decision: `order` is DAY_FIRST, MONTH_FIRST or None, with its evidence."""

    order: str | None
    day_first_rows: int
    month_first_rows: int
    basis: str


def decide(day_first_rows: int, month_first_rows: int) -> DateOrder:
    if day_first_rows > month_first_rows:
        return DateOrder(
            DAY_FIRST, day_first_rows, month_first_rows, f"{day_first_rows} day-first row(s)"
        )
    if month_first_rows > day_first_rows:
        return DateOrder(
            MONTH_FIRST, day_first_rows, month_first_rows, f"{month_first_rows} month-first row(s)"
        )
    if day_first_rows:
        return DateOrder(None, day_first_rows, month_first_rows, "as many rows in each order")
    return DateOrder(None, 0, 0, "no day above 12, no date range that decides")


def _ymd(year: str, month: str, day: str) -> str:
    return (
        f"cast(try_strptime({year} || '-' || lpad({month}, 2, '0') || '-' || lpad({day}, 2, '0'), "
        "'%Y-%m-%d') as date)"
    )


def parts_sql(raw: str) -> tuple[str, str]:
    """SQL for two structs to compute once per row: the numeric day/month/year parts of a
    trimmed value (`a/b/yyyy`, fields '' when it is not) and its year-first parts."""
    numeric = f"regexp_extract({raw}, '{_NUMERIC}', ['a', 's1', 'b', 's2', 'y'])"
    year_first = f"regexp_extract({raw}, '{_YEAR_FIRST}', ['y', 's1', 'm', 's2', 'd'])"
    return numeric, year_first


def readings_sql(raw: str, numeric: str, year_first: str) -> str:
    """SQL: a struct (fixed, day_first, month_first) of the possible dates of a value, from
    its `parts_sql` columns."""
    named = ", ".join(f"'{f}'" for f in NAMED_FORMATS)
    n, yf = numeric, year_first
    iso = _ymd(f"{yf}.y", f"{yf}.m", f"{yf}.d")
    dotted = _ymd(f"{n}.y", f"{n}.b", f"{n}.a")
    return f"""{{
        'fixed': coalesce(
            case when {yf}.s1 <> '' and {yf}.s1 = {yf}.s2 then {iso} end,
            case when {n}.s1 = '.' and {n}.s2 = '.' then {dotted} end,
            cast(try_strptime({raw}, [{named}]) as date)
        ),
        'day_first': case when {n}.s1 in ('/', '-') and {n}.s1 = {n}.s2
            then {_ymd(f"{n}.y", f"{n}.b", f"{n}.a")} end,
        'month_first': case when {n}.s1 in ('/', '-') and {n}.s1 = {n}.s2
            then {_ymd(f"{n}.y", f"{n}.a", f"{n}.b")} end
    }}"""


def class_sql(readings: str, date_range: tuple[date, date] | None) -> str:
    """SQL: FIXED, DAY_FIRST, MONTH_FIRST, AMBIGUOUS or BAD from a `readings_sql` struct."""

    def usable(value: str) -> str:
        if date_range is None:
            return f"{value} is not null"
        low, high = (literal(d) for d in date_range)
        return f"coalesce({value} between {low} and {high}, false)"

    day, month = f"{readings}.day_first", f"{readings}.month_first"
    return (
        f"case when {readings}.fixed is not null then '{FIXED}' "
        f"when {usable(day)} and {usable(month)} "
        f"then case when {day} = {month} then '{FIXED}' else '{AMBIGUOUS}' end "
        f"when {usable(day)} then '{DAY_FIRST}' "
        f"when {usable(month)} then '{MONTH_FIRST}' "
        f"else '{BAD}' end"
    )


def value_sql(readings: str, date_class: str, order: str | None) -> str:
    """SQL: the date in a file read in `order`; NULL when the value has no reading there."""
    day, month = f"{readings}.day_first", f"{readings}.month_first"
    chosen = {DAY_FIRST: day, MONTH_FIRST: month}.get(order or "", "null")
    return (
        f"case {date_class} when '{FIXED}' then coalesce({readings}.fixed, {day}) "
        f"when '{AMBIGUOUS}' then {chosen} "
        f"when '{DAY_FIRST}' then case when {literal(order)} is distinct from '{MONTH_FIRST}' "
        f"then {day} end "
        f"when '{MONTH_FIRST}' then case when {literal(order)} is distinct from '{DAY_FIRST}' "
        f"then {month} end end"
    )


def problem_sql(
    raw: str,
    readings: str,
    date_class: str,
    label: str,
    decision: DateOrder,
    date_range: tuple[date, date] | None,
) -> str:
    """SQL: why a day cannot be read in this file (NULL when it can). `label` is a header."""
    cases = []
    unparseable = f"{literal(f'unparseable {label}: ')} || {raw}"
    if date_range:
        low, high = (literal(d) for d in date_range)
        outside = f"is outside the report's date range {date_range[0]} .. {date_range[1]}"
        cases.append(
            f"when {date_class} = '{FIXED}' and coalesce({readings}.fixed, "
            f"{readings}.day_first) not between {low} and {high} "
            f"then {literal(label + ' ')} || {raw} || {literal(' ' + outside)}"
        )
        unparseable = (
            f"case when coalesce({readings}.day_first, {readings}.month_first) is not null "
            f"then {literal(label + ' ')} || {raw} || "
            f"{literal(f' {outside} whichever way it is read')} else {unparseable} end"
        )
    cases.append(f"when {date_class} = '{BAD}' then {unparseable}")
    if decision.order is None:
        why = f" (day or month first?); nothing in the file decides ({decision.basis})"
        cases.append(
            f"when {date_class} = '{AMBIGUOUS}' "
            f"then {literal(f'ambiguous date in {label}: ')} || {raw} || {literal(why)}"
        )
    for written in (DAY_FIRST, MONTH_FIRST):
        if decision.order == written:
            continue
        if decision.order is None:
            because = (
                f"the file has {decision.day_first_rows} day-first and "
                f"{decision.month_first_rows} month-first row(s): its date order is ambiguous"
            )
        else:
            because = f"the file's other days are {_NAMES[decision.order]} ({decision.basis})"
        cases.append(
            f"when {date_class} = '{written}' "
            f"then {literal(f'date order conflict in {label}: ')} || {raw} "
            f"|| {literal(f' can only be {_NAMES[written]}, but {because}')}"
        )
    return f"case {' '.join(cases)} end"
