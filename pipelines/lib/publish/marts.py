"""Which marts are published, and their grain: read from the dbt manifest.

Each mart declares `config.meta.microfunnel: {grain: [...], day_column: ...}` in its yml; that
is the one place the grain is written. Publishing, the asset graph and the tests read it here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.lib.publish.spec import MartSpec

MART_META_KEY = "microfunnel"


def published_marts(manifest_path: Path) -> tuple[MartSpec, ...]:
    """Every model whose meta declares a grain, by name."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    specs = [
        MartSpec(node["name"], meta.get("day_column"), tuple(meta["grain"]), tuple(node["columns"]))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and "grain" in (meta := _mart_meta(node))
    ]
    return tuple(sorted(specs, key=lambda spec: spec.table))


def mart_grains(manifest_path: Path) -> dict[str, tuple[str, ...]]:
    """Mart name -> the columns that identify one of its rows."""
    return {spec.table: spec.primary_key for spec in published_marts(manifest_path)}


def _mart_meta(node: dict[str, Any]) -> dict[str, Any]:
    meta = node.get("config", {}).get("meta", {}).get(MART_META_KEY)
    return meta if isinstance(meta, dict) else {}
