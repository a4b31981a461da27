"""A funnel longer than the marts hold is refused when the file loads; the file is parsed once
per version of it on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from pipelines.lib.dbt_var_defaults import max_stages
from pipelines.lib.funnels import FunnelConfigError, load_funnels
from pipelines.lib.funnels import loader as funnel_loader
from pipelines.lib.settings import DBT_PROJECT_DIR


def _funnel_file(path: Path, stage_count: int) -> Path:
    stages = [{"name": f"s{k}", "events": [f"event_{k}"]} for k in range(1, stage_count + 1)]
    doc = {"funnels": [{"id": "long", "kind": "micro", "stages": stages}]}
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_max_stages_is_the_dbt_var() -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert max_stages() == project["vars"]["microfunnel__max_stages"] == 8


def test_a_funnel_with_max_stages_loads(tmp_path: Path) -> None:
    funnel_set = load_funnels(_funnel_file(tmp_path / "funnels.yml", max_stages()))
    assert funnel_set.max_stages == max_stages()


def test_a_funnel_with_more_stages_is_refused_naming_file_funnel_and_field(tmp_path: Path) -> None:
    path = _funnel_file(tmp_path / "funnels.yml", max_stages() + 1)
    with pytest.raises(FunnelConfigError) as info:
        load_funnels(path)
    assert str(info.value) == (
        f"{path}: funnel 'long': stages: a funnel has at most {max_stages()} stages "
        f"(dbt var microfunnel__max_stages in dbt_project.yml), got {max_stages() + 1}"
    )


def test_the_file_is_parsed_once_until_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = funnel_loader.parse_funnels

    def counting_parse(text: str, source: str = "<string>"):
        parsed.append(source)
        return real_parse(text, source)

    monkeypatch.setattr(funnel_loader, "parse_funnels", counting_parse)
    path = _funnel_file(tmp_path / "funnels.yml", 3)
    first = load_funnels(path)
    assert load_funnels(path) is first
    assert len(parsed) == 1
    _funnel_file(path, 4)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_funnels(path).max_stages == 4
    assert len(parsed) == 2
