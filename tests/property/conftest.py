"""Property tests of the dbt funnel marts against the Python reference.

`sql_harness` (session-scoped, tests/conftest.py) is the compiled dbt project;
`comparison_stats` counts the streams, journeys and stage rows compared, printed at the end of
the run.
"""

from __future__ import annotations

from collections import Counter

import pytest

STATS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def comparison_stats() -> Counter[str]:
    return STATS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS:
        return
    terminalreporter.section("funnel property tests: compared with the reference")
    for key in sorted(STATS):
        terminalreporter.write_line(f"{key}: {STATS[key]}")
