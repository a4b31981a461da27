"""A funnel definition that changed must get a new version before it runs."""

from pathlib import Path

import pytest

from pipelines.lib.funnels import FunnelConfigError, parse_funnels
from pipelines.lib.funnels.versions import check_versions, read_history, write_history

FUNNEL = """\
funnels:
  - id: quiz
    version: {version}
    label: {label}
    kind: micro
    primary: true
    window: {window}
    stages:
      - {{name: hook, events: [page_view]}}
      - {{name: buy, events: [purchase]}}
"""


def funnels(version: int = 1, label: str = "Quiz", window: str = "7d"):
    text = FUNNEL.format(version=version, label=label, window=window)
    return parse_funnels(text, source="funnels.yml")


def run(config_dir: Path, **kwargs) -> None:
    """What the funnel_definitions asset does around writing the tables."""
    write_history(check_versions(funnels(**kwargs), config_dir), config_dir)


def test_same_definition_runs_again(tmp_path: Path) -> None:
    run(tmp_path)
    run(tmp_path)
    assert list(read_history(tmp_path)["quiz"]) == ["1"]


def test_changed_definition_with_the_same_version_is_refused(tmp_path: Path) -> None:
    run(tmp_path)
    with pytest.raises(FunnelConfigError) as raised:
        run(tmp_path, window="3d")
    message = str(raised.value)
    assert message.startswith("funnels.yml: funnel 'quiz': version:")
    assert "give it a new version" in message
    # Nothing was recorded for the refused definition.
    assert list(read_history(tmp_path)["quiz"]) == ["1"]


def test_a_new_version_is_accepted_and_the_old_one_can_come_back(tmp_path: Path) -> None:
    run(tmp_path)
    run(tmp_path, version=2, window="3d")
    run(tmp_path)  # back to version 1, unchanged: fine
    assert sorted(read_history(tmp_path)["quiz"]) == ["1", "2"]
    with pytest.raises(FunnelConfigError):
        run(tmp_path, version=2)  # version 2 meant a 3-day window


def test_a_new_label_needs_no_new_version(tmp_path: Path) -> None:
    run(tmp_path)
    run(tmp_path, label="Quiz funnel (renamed)")
