"""What a suite run means for the pipeline: did anything blocking fail, and what exactly."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipelines.lib.quality.suites import Severity

PARTIAL_LIST_LIMIT = 5
# Result keys worth carrying; the rest of GX's result dict is noise for a Dagster check.
_OBSERVED_KEYS = ("unexpected_count", "unexpected_percent", "partial_unexpected_list")


@dataclass(frozen=True)
class FailedExpectation:
    type: str
    column: str | None  # table-level rules have none; multi-column rules join with ","
    severity: Severity
    why: str
    observed: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        return f"[{self.severity.upper()}] {self.type}{target}: {self.summary()} ({self.why})"

    def summary(self) -> str:
        obs = self.observed
        if "exception" in obs:
            return f"raised {obs['exception']}"
        parts: list[str] = []
        if obs.get("unexpected_count") is not None:
            text = f"{obs['unexpected_count']} unexpected"
            if obs.get("unexpected_percent") is not None:
                text += f" ({obs['unexpected_percent']:.2f}%)"
            parts.append(text)
        if obs.get("partial_unexpected_list"):
            parts.append(f"e.g. {obs['partial_unexpected_list']}")
        if "observed_value" in obs:
            parts.append(f"observed {obs['observed_value']!r}")
        return ", ".join(parts) or "failed"


@dataclass(frozen=True)
class SuiteOutcome:
    suite_name: str
    success_errors: bool  # every error-severity expectation passed: downstream may run
    success_warnings: bool
    evaluated: int
    failed: list[FailedExpectation] = field(default_factory=list)

    @property
    def errors(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "error"]

    @property
    def warnings(self) -> list[FailedExpectation]:
        return [f for f in self.failed if f.severity == "warning"]

    def describe(self) -> str:
        """One line per failure; a single summary line when nothing failed."""
        if not self.failed:
            return f"{self.suite_name}: all {self.evaluated} expectations passed"
        return "\n".join(f"{self.suite_name}: {f.describe()}" for f in self.failed)

    def to_metadata(self) -> dict[str, str | int | float]:
        """Flat scalars, one key per failure, for Dagster check metadata."""
        meta: dict[str, str | int | float] = {
            "suite": self.suite_name,
            "evaluated": self.evaluated,
            "failed_errors": len(self.errors),
            "failed_warnings": len(self.warnings),
        }
        for failure in self.failed:
            base = f"{failure.severity}.{failure.type}" + (
                f".{failure.column}" if failure.column else ""
            )
            key, n = base, 2
            while key in meta:  # two rules of one type on one column stay distinct
                key, n = f"{base}.{n}", n + 1
            meta[key] = failure.summary()
        return meta


def observed_from_result(result: dict[str, Any], exception: dict[str, Any] | None) -> dict:
    """The few figures a reader needs, JSON-friendly, with the sample trimmed."""
    message = _exception_message(exception or {})
    if message is not None:
        return {"exception": message}
    observed: dict[str, Any] = {}
    for key in _OBSERVED_KEYS:
        if result.get(key) is not None:
            observed[key] = plain_value(result[key])
    if "partial_unexpected_list" in observed:
        observed["partial_unexpected_list"] = observed["partial_unexpected_list"][
            :PARTIAL_LIST_LIMIT
        ]
    if "observed_value" in result:
        observed["observed_value"] = plain_value(result["observed_value"])
    return observed


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX reports either one exception or one per failed metric (keyed by metric id)."""
    candidates = [info, *(v for v in info.values() if isinstance(v, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "unknown error")
            return (message.splitlines() or ["unknown error"])[0][:300]
    return None


def column_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A") and kwargs.get("column_B"):
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ",".join(map(str, kwargs["column_list"]))
    return None


def plain_value(value: Any) -> Any:
    """numpy / pandas scalars and NaN become plain Python, so metadata serializes."""
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:  # Arrow-backed and datetime nulls
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
