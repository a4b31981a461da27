"""How a UI download writes numbers (decimal point or decimal comma), decided per file.

The UI writes numbers in the downloading user's locale: `1,234.56` (en), `1.234,56` (de),
`1 234,56` (fr, with a space or no-break space), `1'234.56` (ch). The same text can mean two
numbers (`1.234` is 1.234 or 1234), so each file's style is decided from values that can only
be read one way, never from a default:

- decimal point: `1,234.56`, `1,234,567`, `12.5`, `0.500`, `1 234.5`; in a whole-number column
  (impressions, clicks) also `1,234`, which cannot be 1.234 impressions;
- decimal comma: the mirror images, `1.234,56`, `1.234.567`, `12,5`, `1 234,5`, and `1.234`
  in a whole-number column.

The style with more evidence rows wins; rows whose values use the other style are quarantined
(conflicting evidence). With no evidence at all, a ';'-delimited file is read with a decimal
comma (spreadsheets use ';' as the list separator exactly where the comma is the decimal
mark); otherwise a value that stays ambiguous (`1.234`, `1,234` outside whole-number columns)
is quarantined with a reason that says so. Plain numbers (`1234`, `0`) read the same either way.

Everything is SQL over a file's cells; the decision itself is a handful of counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sql import literal

POINT = "point"
COMMA = "comma"
AMBIGUOUS = "ambiguous"
PLAIN = "plain"
BAD = "bad"

# Grouping characters that can only be grouping: spaces (incl. no-break and thin) and the
# Swiss apostrophe. They become '_' before classification.
_SPACE_GROUPS = "[ \\x{00A0}\\x{202F}\\x{2009}''\\x{2019}]"
_SIGN = "^[-\\x{2212}]"
_PLAIN_RE = r"^(\d+|\d{1,3}(_\d{3})+)$"
_AMBIGUOUS_RE = r"^[1-9]\d{0,2}[.,]\d{3}$"
_POINT_RE = r"^(\d{1,3}(_\d{3})+\.\d+|\d{1,3}(,\d{3})+\.\d+|\d{1,3}(,\d{3}){2,}|\d+\.\d+)$"
_COMMA_RE = r"^(\d{1,3}(_\d{3})+,\d+|\d{1,3}(\.\d{3})+,\d+|\d{1,3}(\.\d{3}){2,}|\d+,\d+)$"
_NAMES = {POINT: "a decimal point", COMMA: "a decimal comma"}


@dataclass(frozen=True)
class NumberStyle:
    """One file's decision: `style` is POINT, COMMA or None (undecided), with its evidence."""

    style: str | None
    point_rows: int
    comma_rows: int
    basis: str


def decide(point_rows: int, comma_rows: int, delimiter: str) -> NumberStyle:
    if point_rows > comma_rows:
        return NumberStyle(
            POINT, point_rows, comma_rows, f"{point_rows} row(s) with a decimal point"
        )
    if comma_rows > point_rows:
        return NumberStyle(
            COMMA, point_rows, comma_rows, f"{comma_rows} row(s) with a decimal comma"
        )
    if point_rows:
        return NumberStyle(None, point_rows, comma_rows, "as many rows in each style")
    if delimiter == ";":
        return NumberStyle(COMMA, 0, 0, "';' delimiter, no value decides")
    return NumberStyle(None, 0, 0, "no value decides")


def _body(raw: str) -> str:
    """The value without its sign, space-like group separators turned into '_'."""
    return f"regexp_replace(regexp_replace({raw}, '{_SIGN}', ''), '{_SPACE_GROUPS}', '_', 'g')"


def class_sql(raw: str, whole_number: bool) -> str:
    """SQL: POINT, COMMA, AMBIGUOUS, PLAIN or BAD for a trimmed value (NULL stays NULL).

    In a whole-number column a single '1,234'/'1.234' group can only be a thousands separator.
    """
    body = _body(raw)
    ambiguous = (
        f"case when contains({body}, ',') then '{POINT}' else '{COMMA}' end"
        if whole_number
        else f"'{AMBIGUOUS}'"
    )
    return (
        f"case when {raw} is null then null "
        f"when regexp_full_match({body}, '{_PLAIN_RE}') then '{PLAIN}' "
        f"when regexp_full_match({body}, '{_AMBIGUOUS_RE}') then {ambiguous} "
        f"when regexp_full_match({body}, '{_POINT_RE}') then '{POINT}' "
        f"when regexp_full_match({body}, '{_COMMA_RE}') then '{COMMA}' "
        f"else '{BAD}' end"
    )


def value_sql(raw: str, value_class: str, style: str | None) -> str:
    """SQL: the number a value means in a file of `style`; NULL when it has no reading there."""
    body = f"replace({_body(raw)}, '_', '')"
    point = f"replace({body}, ',', '')"
    comma = f"replace(replace({body}, '.', ''), ',', '.')"
    readable = {POINT: (PLAIN, AMBIGUOUS, POINT), COMMA: (PLAIN, AMBIGUOUS, COMMA)}
    text = {POINT: point, COMMA: comma}.get(style or "", body)
    classes = ", ".join(f"'{c}'" for c in readable.get(style or "", (PLAIN,)))
    sign = f"case when regexp_matches({raw}, '{_SIGN}') then -1 else 1 end"
    return f"case when {value_class} in ({classes}) then {sign} * try_cast({text} as double) end"


def problem_sql(raw: str, value_class: str, label: str, decision: NumberStyle) -> str:
    """SQL: why a value cannot be read in this file (NULL when it can). `label` is a header."""
    cases = [f"when {value_class} = '{BAD}' then {literal(f'unparseable {label}: ')} || {raw}"]
    if decision.style is None:
        why = (
            " (decimal or thousands separator?); no value in the file decides its number "
            f"style ({decision.basis})"
        )
        cases.append(
            f"when {value_class} = '{AMBIGUOUS}' "
            f"then {literal(f'ambiguous number in {label}: ')} || {raw} || {literal(why)}"
        )
    for written, other in ((POINT, COMMA), (COMMA, POINT)):
        if decision.style == written:
            continue
        if decision.style is None:
            because = (
                f"the file has {decision.point_rows} row(s) with a decimal point and "
                f"{decision.comma_rows} with a decimal comma: its number style is ambiguous"
            )
        else:
            because = f"the file's other numbers use {_NAMES[other]} ({decision.basis})"
        cases.append(
            f"when {value_class} = '{written}' "
            f"then {literal(f'number style conflict in {label}: ')} || {raw} "
            f"|| {literal(f' uses {_NAMES[written]}, but {because}')}"
        )
    return f"case {' '.join(cases)} end"
