"""Run a suite against a pandas DataFrame in an ephemeral GX context.

GX's SQL data source returns no metrics on DuckDB, so callers hand over pandas frames. Building
a context costs seconds; it is built on first use (never at import) and reused.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pipelines.lib.quality.outcome import (
    PARTIAL_LIST_LIMIT,
    FailedExpectation,
    SuiteOutcome,
    column_of,
    observed_from_result,
)
from pipelines.lib.quality.suites import SEVERITIES, load_suite
from pipelines.lib.settings import EXPECTATIONS_DIR

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.batch_definition import BatchDefinition

_DATASOURCE = "microfunnel_frames"
_ASSET = "frame"
_BATCH_DEFINITION = "whole_frame"
# SUMMARY carries counts, percents and a short sample without materializing unexpected rows.
_RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": PARTIAL_LIST_LIMIT,
}
# The GX context is not documented as thread-safe; one validation at a time per process.
_LOCK = threading.Lock()


def validate_frame(
    suite_name: str,
    frame: pd.DataFrame,
    *,
    expectations_dir: Path = EXPECTATIONS_DIR,
) -> SuiteOutcome:
    """Validate `frame` against the named suite; errors block, warnings are reported."""
    from great_expectations.validator.v1_validator import Validator

    suite = _cached_suite(suite_name, Path(expectations_dir))
    with _LOCK:
        # What Batch.validate does, minus its extra get_batch: each batch load fingerprints
        # (hashes) the whole frame, about a second per million rows, far more if Arrow-backed.
        validator = Validator(
            batch_definition=_batch_definition(),
            batch_parameters={"dataframe": _vectorizable(frame)},
            result_format=_RESULT_FORMAT,
        )
        result = validator.validate_expectation_suite(suite)
    return _outcome(suite_name, result.results)


def _vectorizable(frame: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns at ns unit: GX's pandas `between` is vectorized only for those, and
    DuckDB / Arrow hand over microseconds (a per-row Python loop, ~5 s per million rows)."""
    converted: dict[str, pd.Series] = {}
    for name, dtype in frame.dtypes.items():
        if isinstance(name, str) and pd.api.types.is_datetime64_dtype(dtype):
            # Out of ns range (before 1677): keep the slow path, it is still correct.
            with contextlib.suppress(OverflowError, pd.errors.OutOfBoundsDatetime):
                if dtype != "datetime64[ns]":
                    converted[name] = frame[name].astype("datetime64[ns]")
    # Copy-on-write makes this a shallow copy; the caller's frame is never modified.
    return frame.assign(**converted) if converted else frame


@functools.cache
def _cached_suite(suite_name: str, expectations_dir: Path) -> gx.ExpectationSuite:
    return load_suite(suite_name, expectations_dir)


@functools.cache
def _batch_definition() -> BatchDefinition:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # tqdm bars per validation would flood Dagster's captured stderr.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas(name=_DATASOURCE).add_dataframe_asset(name=_ASSET)
    return asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)


def _outcome(suite_name: str, results: list[Any]) -> SuiteOutcome:
    failed: list[FailedExpectation] = []
    passed = {severity: True for severity in SEVERITIES}
    for item in results:
        config = item.expectation_config
        meta = config.meta or {}
        severity = meta["severity"]  # load_suite guarantees it is one of SEVERITIES
        if item.success:
            continue
        passed[severity] = False
        failed.append(
            FailedExpectation(
                type=config.type,
                column=column_of(config.kwargs),
                severity=severity,
                why=meta["why"],
                observed=observed_from_result(item.result or {}, item.exception_info),
            )
        )
    # Blocking failures first, so a truncated log still shows what stopped the run.
    failed.sort(key=lambda f: SEVERITIES.index(f.severity))
    return SuiteOutcome(
        suite_name=suite_name,
        success_errors=passed["error"],
        success_warnings=passed["warning"],
        evaluated=len(results),
        failed=failed,
    )
