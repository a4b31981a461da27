"""Data-quality suites (great-expectations 1.x) and the plain-Python code that runs them.

No Dagster here: asset checks wrap these functions elsewhere.
"""

from pipelines.lib.quality.outcome import FailedExpectation, SuiteOutcome
from pipelines.lib.quality.suites import SuiteLoadError, load_suite, suite_names
from pipelines.lib.quality.validate import validate_frame

__all__ = [
    "FailedExpectation",
    "SuiteLoadError",
    "SuiteOutcome",
    "load_suite",
    "suite_names",
    "validate_frame",
]
