"""Refuse a changed funnel definition that kept its version number.

Every output row carries `funnel_version`, and aggregates keep versions apart; that only helps
if a new definition gets a new number. The fingerprint of each funnel (everything that changes
its numbers: stages, filters, mode, window, gaps, exclusions, attribution, intent, campaigns,
kind; not its label) is remembered per version in `<funnel_config>/versions.json`; a run whose
definition differs from the one remembered for the same id and version fails with a message
asking for a version bump, so numbers of two definitions are never mixed silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from pipelines.lib.funnels.loader import FunnelConfigError
from pipelines.lib.funnels.model import FunnelSet
from pipelines.lib.funnels.tables import funnel_table_rows

HISTORY_FILE = "versions.json"
# Columns that describe a funnel without changing what it counts.
COSMETIC_COLUMNS = frozenset({"funnel_version", "label"})


def fingerprints(funnel_set: FunnelSet) -> dict[str, str]:
    """sha256 per funnel id over its rows in every definition table, cosmetic columns left out."""
    per_funnel: dict[str, list[Any]] = {f.id: [] for f in funnel_set}
    for table, rows in sorted(funnel_table_rows(funnel_set).items()):
        for row in rows:
            kept = {k: v for k, v in sorted(row.items()) if k not in COSMETIC_COLUMNS}
            per_funnel[row["funnel_id"]].append([table, kept])
    return {
        funnel_id: hashlib.sha256(
            json.dumps(rows, sort_keys=True, default=str).encode()
        ).hexdigest()
        for funnel_id, rows in per_funnel.items()
    }


def read_history(config_dir: Path) -> dict[str, dict[str, str]]:
    path = Path(config_dir) / HISTORY_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def check_versions(funnel_set: FunnelSet, config_dir: Path) -> dict[str, dict[str, str]]:
    """The history with this run's fingerprints added; raises when a definition changed in
    place (same id and version, different fingerprint)."""
    history = read_history(config_dir)
    problems = []
    updated = {funnel_id: dict(versions) for funnel_id, versions in history.items()}
    current = fingerprints(funnel_set)
    for funnel in funnel_set:
        fingerprint = current[funnel.id]
        known = history.get(funnel.id, {}).get(str(funnel.version))
        if known is not None and known != fingerprint:
            problems.append(
                f"funnel '{funnel.id}': version: the definition changed since it was last run "
                f"as version {funnel.version}; give it a new version so its numbers are not "
                "mixed with the old definition's"
            )
        updated.setdefault(funnel.id, {})[str(funnel.version)] = fingerprint
    if problems:
        raise FunnelConfigError(funnel_set.source, problems)
    return updated


def write_history(history: dict[str, dict[str, str]], config_dir: Path) -> None:
    """Written aside and renamed into place, like the definition tables."""
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    tmp = config_dir / f".{HISTORY_FILE}.{uuid.uuid4().hex}.tmp"
    try:
        tmp.write_text(json.dumps(history, indent=2, sort_keys=True))
        os.replace(tmp, config_dir / HISTORY_FILE)
    finally:
        tmp.unlink(missing_ok=True)
