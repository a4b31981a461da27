"""Run a reviewed suite inside DuckDB: the JSON in `expectations/` compiled to SQL aggregates.

Each rule is one aggregate query over the columns it names (a uniqueness rule adds a GROUP BY),
plus a five-row sample when it fails. Nothing is copied into pandas and GX is not imported, so
a partition is checked in DuckDB's time and within the run's DuckDB memory limit. The results
follow GX 1.x's (`validate.py` still runs the same suites through GX, and
`tests/unit/test_quality_engines.py` runs both on the same data and compares every failure,
count, percent, sample and observed value):

- column rules other than not-null skip nulls; their percent is of the non-null values;
- uniqueness counts every row of a repeated value (one repeat is two unexpected rows);
- `mostly` is the share of the counted rows that must pass;
- a rule on a missing column fails with an exception, as GX reports it.

Only the expectation types and keywords in `RULES` are accepted: anything else is a
SuiteLoadError naming the file and index, never a rule that is quietly skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.ingest.sql import literal
from pipelines.lib.publish.spec import quote_ident
from pipelines.lib.quality.outcome import (
    PARTIAL_LIST_LIMIT,
    FailedExpectation,
    SuiteOutcome,
    column_of,
    plain_value,
)
from pipelines.lib.quality.suites import (
    Severity,
    SuiteLoadError,
    expectation_label,
    read_suite_configs,
    suite_path,
)
from pipelines.lib.settings import EXPECTATIONS_DIR

_COMMON = frozenset({"mostly", "result_format", "catch_exceptions", "meta"})
# Accepted keywords per type (beyond _COMMON); GX's defaults where a keyword is absent.
RULES: dict[str, frozenset[str]] = {
    "expect_table_columns_to_match_set": frozenset({"column_set", "exact_match"}),
    "expect_table_column_count_to_equal": frozenset({"value"}),
    "expect_table_row_count_to_be_between": frozenset({"min_value", "max_value"}),
    "expect_column_values_to_not_be_null": frozenset({"column"}),
    "expect_column_values_to_be_unique": frozenset({"column"}),
    "expect_column_values_to_be_in_set": frozenset({"column", "value_set"}),
    "expect_column_values_to_match_regex": frozenset({"column", "regex"}),
    "expect_column_values_to_be_between": frozenset(
        {"column", "min_value", "max_value", "strict_min", "strict_max"}
    ),
    "expect_column_proportion_of_non_null_values_to_be_between": frozenset(
        {"column", "min_value", "max_value", "strict_min", "strict_max"}
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": frozenset(
        {"column_A", "column_B", "or_equal", "ignore_row_if"}
    ),
    "expect_compound_columns_to_be_unique": frozenset({"column_list", "ignore_row_if"}),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "expect_table_columns_to_match_set": ("column_set",),
    "expect_table_column_count_to_equal": ("value",),
    "expect_column_values_to_be_in_set": ("column", "value_set"),
    "expect_column_values_to_match_regex": ("column", "regex"),
    "expect_column_pair_values_a_to_be_greater_than_b": ("column_A", "column_B"),
    "expect_compound_columns_to_be_unique": ("column_list",),
}
_PAIR_IGNORE = {
    "both_values_are_missing": "{a} is null and {b} is null",
    "either_value_is_missing": "{a} is null or {b} is null",
    "neither": "false",
    "never": "false",
}
_COMPOUND_IGNORE = {"all_values_are_missing", "any_value_is_missing", "never"}


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite file, checked against RULES."""

    type: str
    kwargs: dict[str, Any]
    severity: Severity
    why: str

    @property
    def columns(self) -> list[str]:
        kw = self.kwargs
        if "column" in kw:
            return [kw["column"]]
        if "column_A" in kw:
            return [kw["column_A"], kw["column_B"]]
        return list(kw.get("column_list") or [])


@dataclass(frozen=True)
class _Map:
    """A column rule: rows it counts (`domain`), rows that fail (`bad`), what a sample shows."""

    domain: str
    bad: str
    sample: str
    relation: str | None = None  # instead of the run's (an aliased form, for sub-queries)


@functools.cache
def load_rules(suite_name: str, expectations_dir: Path = EXPECTATIONS_DIR) -> tuple[Rule, ...]:
    """The suite file as Rules; an unsupported type or keyword names the file and index."""
    path = suite_path(suite_name, expectations_dir)
    rules = []
    for index, config in enumerate(read_suite_configs(suite_name, expectations_dir)):
        where = expectation_label(path, index, config.get("type"))
        type_ = config.get("type")
        if type_ not in RULES:
            raise SuiteLoadError(f"{where}: the DuckDB suite runner has no rule for this type")
        kwargs = config.get("kwargs") or {}
        unknown = set(kwargs) - RULES[type_] - _COMMON
        if unknown:
            raise SuiteLoadError(f"{where}: unknown keyword(s) {sorted(unknown)}")
        missing = [
            k
            for k in _REQUIRED.get(type_, ("column",) if "column" in RULES[type_] else ())
            if kwargs.get(k) is None
        ]
        if missing:
            raise SuiteLoadError(f"{where}: missing keyword(s) {missing}")
        _check_ignore(where, type_, kwargs)
        meta = config["meta"]
        rules.append(Rule(type_, dict(kwargs), meta["severity"], meta["why"]))
    return tuple(rules)


def _check_ignore(where: str, type_: str, kwargs: dict[str, Any]) -> None:
    ignore = kwargs.get("ignore_row_if")
    if ignore is None:
        return
    allowed = _PAIR_IGNORE if type_.startswith("expect_column_pair") else _COMPOUND_IGNORE
    if ignore not in allowed:
        raise SuiteLoadError(f"{where}: ignore_row_if {ignore!r} is not one of {sorted(allowed)}")


def validate_relation(
    suite_name: str,
    con: duckdb.DuckDBPyConnection,
    relation: str,
    *,
    expectations_dir: Path = EXPECTATIONS_DIR,
) -> SuiteOutcome:
    """Run the suite over `relation` (a table, view or `read_parquet(...)` call) on `con`."""
    rules = load_rules(suite_name, Path(expectations_dir))
    run = _Run(con, relation)
    failed = [f for f in (run.check(rule) for rule in rules) if f is not None]
    failed.sort(key=lambda f: ("error", "warning").index(f.severity))
    return SuiteOutcome(
        suite_name=suite_name,
        success_errors=not any(f.severity == "error" for f in failed),
        success_warnings=not any(f.severity == "warning" for f in failed),
        evaluated=len(rules),
        failed=failed,
    )


class _Run:
    """One relation being checked, with its column names (a rule on a missing one fails)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: str) -> None:
        self.con = con
        self.relation = relation
        described = con.execute(f"describe select * from {relation}").fetchall()
        self.column_names = [row[0] for row in described]

    # --- per rule ------------------------------------------------------------------------

    def check(self, rule: Rule) -> FailedExpectation | None:
        absent = [c for c in rule.columns if c not in self.column_names]
        if absent:
            return self._failure(
                rule, {"exception": f'The column "{absent[0]}" in BatchData does not exist.'}
            )
        try:
            observed = _CHECKS[rule.type](self, rule)
        except duckdb.Error as exc:
            observed = {"exception": (str(exc).splitlines() or ["DuckDB error"])[0][:300]}
        return None if observed is None else self._failure(rule, observed)

    def _failure(self, rule: Rule, observed: dict[str, Any]) -> FailedExpectation:
        return FailedExpectation(
            type=rule.type,
            column=column_of(rule.kwargs),
            severity=rule.severity,
            why=rule.why,
            observed=observed,
        )

    def map_rule(self, rule: Rule, spec: _Map) -> dict[str, Any] | None:
        relation = spec.relation or self.relation
        counted, bad = self.con.execute(
            f"select count(*) filter (where {spec.domain}), "
            f"count(*) filter (where ({spec.domain}) and ({spec.bad})) from {relation}"
        ).fetchone() or (0, 0)
        return self._verdict(rule, int(counted), int(bad), spec, relation)

    def _verdict(
        self, rule: Rule, counted: int, bad: int, spec: _Map, relation: str
    ) -> dict[str, Any] | None:
        mostly = rule.kwargs.get("mostly")
        if mostly is None:
            success = bad == 0
        else:
            success = counted == 0 or (counted - bad) / counted >= float(mostly)
        if success:
            return None
        rows = self.con.execute(
            f"select {spec.sample} from {relation} where ({spec.domain}) and ({spec.bad}) "
            f"limit {PARTIAL_LIST_LIMIT}"
        ).fetchall()
        sample = [row[0] if len(row) == 1 else _sample_row(rule, row) for row in rows]
        observed: dict[str, Any] = {"unexpected_count": bad}
        if counted:
            observed["unexpected_percent"] = bad / counted * 100
        observed["partial_unexpected_list"] = [plain_value(v) for v in sample]
        return observed


def _sample_row(rule: Rule, row: tuple[Any, ...]) -> Any:
    if rule.type == "expect_compound_columns_to_be_unique":
        return dict(zip(rule.columns, row, strict=True))
    return list(row)


def _bounds(expr: str, kwargs: dict[str, Any]) -> str:
    """`expr` within min_value / max_value (strict_* exclude the bound), as GX compares."""
    parts = []
    if kwargs.get("min_value") is not None:
        op = ">" if kwargs.get("strict_min") else ">="
        parts.append(f"{expr} {op} {literal(kwargs['min_value'])}")
    if kwargs.get("max_value") is not None:
        op = "<" if kwargs.get("strict_max") else "<="
        parts.append(f"{expr} {op} {literal(kwargs['max_value'])}")
    return " and ".join(parts) or "true"


def _in_bounds(value: float | int | None, kwargs: dict[str, Any]) -> bool:
    if value is None:
        return False
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and (value <= low if kwargs.get("strict_min") else value < low):
        return False
    return not (high is not None and (value >= high if kwargs.get("strict_max") else value > high))


# --- the rules -------------------------------------------------------------------------------


def _columns_match_set(run: _Run, rule: Rule) -> dict[str, Any] | None:
    expected = list(rule.kwargs["column_set"])
    observed = run.column_names
    if rule.kwargs.get("exact_match", True):
        ok = set(expected) == set(observed)
    else:
        ok = set(expected) <= set(observed)
    return None if ok else {"observed_value": sorted(observed)}  # GX sorts them


def _column_count(run: _Run, rule: Rule) -> dict[str, Any] | None:
    count = len(run.column_names)
    return None if count == rule.kwargs["value"] else {"observed_value": count}


def _row_count(run: _Run, rule: Rule) -> dict[str, Any] | None:
    row = run.con.execute(f"select count(*) from {run.relation}").fetchone()
    count = int(row[0]) if row else 0
    return None if _in_bounds(count, rule.kwargs) else {"observed_value": count}


def _not_null(run: _Run, rule: Rule) -> dict[str, Any] | None:
    col = quote_ident(rule.kwargs["column"])
    return run.map_rule(rule, _Map("true", f"{col} is null", col))


def _in_set(run: _Run, rule: Rule) -> dict[str, Any] | None:
    col = quote_ident(rule.kwargs["column"])
    values = ", ".join(literal(v) for v in rule.kwargs["value_set"]) or "null"
    return run.map_rule(rule, _Map(f"{col} is not null", f"{col} not in ({values})", col))


def _match_regex(run: _Run, rule: Rule) -> dict[str, Any] | None:
    # GX's pandas rule is `astype(str).str.contains(regex)`: a search, not a full match.
    col = quote_ident(rule.kwargs["column"])
    regex = literal(rule.kwargs["regex"])
    bad = f"not regexp_matches(cast({col} as varchar), {regex})"
    return run.map_rule(rule, _Map(f"{col} is not null", bad, col))


def _between(run: _Run, rule: Rule) -> dict[str, Any] | None:
    col = quote_ident(rule.kwargs["column"])
    return run.map_rule(rule, _Map(f"{col} is not null", f"not ({_bounds(col, rule.kwargs)})", col))


def _unique(run: _Run, rule: Rule) -> dict[str, Any] | None:
    col = quote_ident(rule.kwargs["column"])
    repeated = f"{col} in (select {col} from {run.relation} group by {col} having count(*) > 1)"
    return run.map_rule(rule, _Map(f"{col} is not null", repeated, col))


def _compound_unique(run: _Run, rule: Rule) -> dict[str, Any] | None:
    cols = [quote_ident(c) for c in rule.columns]
    ignore = rule.kwargs.get("ignore_row_if", "all_values_are_missing")
    domain = {
        "all_values_are_missing": "not (" + " and ".join(f"{c} is null" for c in cols) + ")",
        "any_value_is_missing": " and ".join(f"{c} is not null" for c in cols),
        "never": "true",
    }[ignore]
    # IS NOT DISTINCT FROM: a null in a key column repeats like any value (pandas `duplicated`).
    joined = " and ".join(f"d.{c} is not distinct from r.{c}" for c in cols)
    repeated = (
        f"exists (select 1 from (select {', '.join(cols)} from {run.relation} where {domain} "
        f"group by all having count(*) > 1) as d where {joined})"
    )
    sample = ", ".join(f"r.{c}" for c in cols)
    aliased = f"(select * from {run.relation}) as r"
    return run.map_rule(rule, _Map(domain, repeated, sample, relation=aliased))


def _proportion_non_null(run: _Run, rule: Rule) -> dict[str, Any] | None:
    col = quote_ident(rule.kwargs["column"])
    total, present = run.con.execute(
        f"select count(*), count({col}) from {run.relation}"
    ).fetchone() or (0, 0)
    proportion = present / total if total else 0  # GX observes 0 on an empty table
    return None if _in_bounds(proportion, rule.kwargs) else {"observed_value": proportion}


def _pair_greater(run: _Run, rule: Rule) -> dict[str, Any] | None:
    a, b = (quote_ident(c) for c in rule.columns)
    ignore = _PAIR_IGNORE[rule.kwargs.get("ignore_row_if", "both_values_are_missing")]
    op = ">=" if rule.kwargs.get("or_equal") else ">"
    bad = f"({a} {op} {b}) is not true"
    return run.map_rule(rule, _Map(f"not ({ignore.format(a=a, b=b)})", bad, f"{a}, {b}"))


_CHECKS: dict[str, Callable[[_Run, Rule], dict[str, Any] | None]] = {
    "expect_table_columns_to_match_set": _columns_match_set,
    "expect_table_column_count_to_equal": _column_count,
    "expect_table_row_count_to_be_between": _row_count,
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_unique": _unique,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_match_regex": _match_regex,
    "expect_column_values_to_be_between": _between,
    "expect_column_proportion_of_non_null_values_to_be_between": _proportion_non_null,
    "expect_column_pair_values_a_to_be_greater_than_b": _pair_greater,
    "expect_compound_columns_to_be_unique": _compound_unique,
}
assert set(_CHECKS) == set(RULES), "every accepted type has a check"
