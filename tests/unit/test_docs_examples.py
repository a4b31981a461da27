"""The funnel examples users copy from the README and docs/funnels.md load as written."""

import re
from pathlib import Path

import pytest

from pipelines.lib.funnels import parse_funnels

REPO = Path(__file__).resolve().parents[2]
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)


def yaml_blocks(doc: str) -> list[str]:
    return YAML_BLOCK.findall((REPO / doc).read_text())


@pytest.mark.parametrize("doc", ["README.md", "docs/funnels.md"])
def test_every_funnel_example_in_the_docs_is_valid(doc: str) -> None:
    blocks = [block for block in yaml_blocks(doc) if block.lstrip().startswith("funnels:")]
    assert blocks, f"{doc} has no funnel example"
    for block in blocks:
        funnel_set = parse_funnels(block, source=doc)
        assert len(funnel_set) >= 1


def test_readme_example_uses_every_option() -> None:
    (block,) = [b for b in yaml_blocks("README.md") if b.lstrip().startswith("funnels:")]
    (funnel,) = parse_funnels(block, source="README.md").funnels
    assert funnel.attribution.model == "last_touch"
    assert [s.optional for s in funnel.stages] == [False, False, True, False]
    assert funnel.exclusions and funnel.campaigns
