"""Read and validate a funnel file (format: docs/funnels.md section 1).

Validation collects every problem in the file and raises one FunnelConfigError listing them
all, each line naming the file, the funnel (id, or index when the id is unusable) and the
field path, so one edit-run cycle fixes a whole file.
"""

import functools
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from pipelines.lib.dbt_var_defaults import MAX_STAGES_VAR, max_stages
from pipelines.lib.funnels.durations import parse_duration, parse_window
from pipelines.lib.funnels.matchers import parse_named_matchers
from pipelines.lib.funnels.model import (
    DEFAULT_WINDOW,
    FUNNEL_KINDS,
    FUNNEL_MODES,
    ID_PATTERN,
    Funnel,
    FunnelSet,
    Stage,
)
from pipelines.lib.funnels.options import (
    parse_attribution,
    parse_campaigns,
    parse_exclusions,
    parse_intent,
)
from pipelines.lib.funnels.problems import (
    FunnelConfigError,
    Problems,
    check_id,
    check_keys,
    type_name,
)
from pipelines.lib.funnels.yaml_source import read_yaml

__all__ = ["FunnelConfigError", "load_funnels", "parse_duration", "parse_funnels"]

MAX_VERSION = 2**31 - 1  # stored as a 32-bit integer in every output table
TOP_KEYS = ("funnels",)
FUNNEL_KEYS = (
    "id",
    "version",
    "label",
    "kind",
    "primary",
    "mode",
    "window",
    "campaigns",
    "attribution",
    "stages",
    "exclusions",
    "intent",
)
STAGE_KEYS = ("name", "events", "where", "optional", "max_gap")


def _parse_stage(raw: Any, order: int, where: str, path: str, p: Problems) -> Stage | None:
    if not isinstance(raw, Mapping):
        p.add(where, path, f"a stage must be a mapping {{name, events}}, got {type_name(raw)}")
        return None
    before = len(p.items)
    check_keys(raw, STAGE_KEYS, where, path, p)
    name, events, filters = parse_named_matchers(raw, "stage", where, path, p)

    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        p.add(where, f"{path}.optional", f"optional must be true or false, got {optional!r}")
    max_gap = None
    if raw.get("max_gap") is not None:
        try:
            max_gap = parse_duration(raw["max_gap"], "max_gap", "30m")
        except ValueError as exc:
            p.add(where, f"{path}.max_gap", str(exc))

    if len(p.items) != before or filters is None or name is None or events is None:
        return None
    return Stage(
        order=order,
        name=name,
        events=events,
        where=filters,
        optional=optional,
        max_gap=max_gap,
    )


def _check_stage_rules(
    raw_stages: list[Any],
    stages: list[Stage | None],
    mode: Any,
    window: timedelta | None,
    window_text: Any,
    where: str,
    p: Problems,
) -> None:
    """Rules that need the whole funnel: first/last stage, mode and window (section 1)."""
    last = len(raw_stages) - 1
    for i, raw in enumerate(raw_stages):
        if not isinstance(raw, Mapping):
            continue
        has_gap = raw.get("max_gap") is not None
        if raw.get("optional") is True and i in (0, last):
            which = "first" if i == 0 else "last"
            p.add(where, f"stages[{i}].optional", f"the {which} stage cannot be optional")
        if has_gap and i == 0:
            p.add(
                where,
                f"stages[{i}].max_gap",
                "max_gap is not allowed on the first stage (there is no previous stage)",
            )
        elif has_gap and mode == "any_order":
            p.add(
                where,
                f"stages[{i}].max_gap",
                "max_gap is not allowed in any_order funnels (there is no previous stage)",
            )
        stage = stages[i] if i < len(stages) else None
        if (
            i > 0
            and stage is not None
            and stage.max_gap is not None
            and window is not None
            and stage.max_gap > window
        ):
            p.add(
                where,
                f"stages[{i}].max_gap",
                f"max_gap {raw['max_gap']!r} exceeds the window {window_text!r}",
            )


def _funnel_label(raw: Any, index: int) -> str:
    fid = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(fid, str) and ID_PATTERN.match(fid):
        return f"funnel '{fid}'"
    return f"funnels[{index}]"


def _parse_funnel(raw: Any, index: int, p: Problems) -> Funnel | None:
    where = _funnel_label(raw, index)
    if not isinstance(raw, Mapping):
        p.add(where, "", f"a funnel must be a mapping, got {type_name(raw)}")
        return None
    before = len(p.items)
    check_keys(raw, FUNNEL_KEYS, where, "", p)

    fid = None
    if "id" not in raw:
        p.add(where, "id", "missing required key 'id'")
    else:
        fid = check_id(raw["id"], where, "id", "funnel id", p)

    version = raw.get("version", 1)
    is_integer = isinstance(version, int) and not isinstance(version, bool)
    if not is_integer or not 1 <= version <= MAX_VERSION:
        shown = version if is_integer else type_name(version)
        p.add(
            where, "version", f"version must be an integer >= 1 and <= {MAX_VERSION}, got {shown}"
        )

    label = raw.get("label", fid)
    if "label" in raw and (not isinstance(label, str) or not label.strip()):
        p.add(where, "label", f"label must be a non-empty string, got {type_name(label)}")

    kind = raw.get("kind")
    if "kind" not in raw:
        p.add(where, "kind", f"missing required key 'kind' (one of {', '.join(FUNNEL_KINDS)})")
    elif kind not in FUNNEL_KINDS:
        p.add(where, "kind", f"unknown kind {kind!r} (expected one of {', '.join(FUNNEL_KINDS)})")

    primary = raw.get("primary", False)
    if not isinstance(primary, bool):
        p.add(where, "primary", f"primary must be true or false, got {primary!r}")

    mode = raw.get("mode", FUNNEL_MODES[0])
    if mode not in FUNNEL_MODES:
        p.add(
            where,
            "mode",
            f"unsupported mode {mode!r} (available modes: {', '.join(FUNNEL_MODES)})",
        )

    window = None
    try:
        window = parse_window(raw.get("window", DEFAULT_WINDOW))
    except ValueError as exc:
        p.add(where, "window", str(exc))

    campaigns = parse_campaigns(raw.get("campaigns"), where, p)

    stages: list[Stage | None] = []
    raw_stages = raw.get("stages")
    if "stages" not in raw:
        p.add(where, "stages", "missing required key 'stages'")
    elif not isinstance(raw_stages, list):
        p.add(where, "stages", f"stages must be a list, got {type_name(raw_stages)}")
    else:
        if len(raw_stages) < 2:
            p.add(
                where,
                "stages",
                f"a funnel needs at least 2 stages, got {len(raw_stages)}",
            )
        elif len(raw_stages) > max_stages():
            p.add(
                where,
                "stages",
                f"a funnel has at most {max_stages()} stages (dbt var {MAX_STAGES_VAR} in "
                f"dbt_project.yml), got {len(raw_stages)}",
            )
        stages = [
            _parse_stage(s, i + 1, where, f"stages[{i}]", p) for i, s in enumerate(raw_stages)
        ]
        seen: dict[str, int] = {}
        for i, stage in enumerate(stages):
            if stage is None:
                continue
            if stage.name in seen:
                p.add(
                    where,
                    f"stages[{i}].name",
                    f"duplicate stage name {stage.name!r} "
                    f"(already used by stages[{seen[stage.name]}])",
                )
            else:
                seen[stage.name] = i
        _check_stage_rules(
            raw_stages, stages, mode, window, raw.get("window", DEFAULT_WINDOW), where, p
        )

    # Stage references resolve against the names as written, so a stage with an unrelated
    # problem does not also make every reference to it an error.
    stage_names: dict[str, int] = {}
    if isinstance(raw_stages, list):
        for i, s in enumerate(raw_stages):
            name = s.get("name") if isinstance(s, Mapping) else None
            if isinstance(name, str):
                stage_names.setdefault(name, i + 1)
    attribution = parse_attribution(raw.get("attribution"), stage_names, where, p)
    exclusions = parse_exclusions(raw.get("exclusions"), stage_names, where, p)
    intent = parse_intent(raw.get("intent"), stage_names, where, p)

    parsed_stages = tuple(stage for stage in stages if stage is not None)
    # Every None below was reported as a problem; the checks only tell the type checker.
    if (
        len(p.items) != before
        or fid is None
        or not isinstance(kind, str)
        or window is None
        or len(parsed_stages) != len(stages)
        or campaigns is None
        or attribution is None
        or exclusions is None
        or intent is None
    ):
        return None
    return Funnel(
        id=fid,
        version=version,
        label=label,
        kind=kind,
        is_primary=primary,
        mode=mode,
        window=window,
        stages=parsed_stages,
        campaigns=campaigns,
        attribution=attribution,
        exclusions=exclusions,
        intent=intent,
    )


def _parse_document(doc: Any, p: Problems) -> list[Funnel]:
    if not isinstance(doc, Mapping):
        got = "an empty file" if doc is None else type_name(doc)
        p.add("", "funnels", f"expected a mapping with a top-level 'funnels' list, got {got}")
        return []
    check_keys(doc, TOP_KEYS, "", "", p)
    raw_funnels = doc.get("funnels")
    if not isinstance(raw_funnels, list) or not raw_funnels:
        got = "nothing" if raw_funnels is None else type_name(raw_funnels)
        if raw_funnels == []:
            got = "an empty list"
        p.add("", "funnels", f"expected a non-empty list of funnels, got {got}")
        return []

    funnels = [_parse_funnel(raw, i, p) for i, raw in enumerate(raw_funnels)]

    # Cross-funnel rules, checked on the raw ids/flags so they are reported even when the
    # funnel has other problems.
    seen_ids: dict[str, int] = {}
    primaries: list[str] = []
    for i, raw in enumerate(raw_funnels):
        if not isinstance(raw, Mapping):
            continue
        where = _funnel_label(raw, i)
        fid = raw.get("id")
        if isinstance(fid, str) and ID_PATTERN.match(fid):
            if fid in seen_ids:
                p.add(
                    where,
                    "id",
                    f"duplicate funnel id {fid!r} (already used by funnels[{seen_ids[fid]}])",
                )
            else:
                seen_ids[fid] = i
        if raw.get("primary") is True:
            if primaries:
                p.add(
                    where,
                    "primary",
                    f"only one funnel may be primary ({primaries[0]} is already primary)",
                )
            primaries.append(where)
    return [f for f in funnels if f is not None]


def parse_funnels(text: str, source: str = "<string>") -> FunnelSet:
    """Validate funnel YAML text. `source` names the file in error messages."""
    doc = read_yaml(text, source)
    p = Problems()
    funnels = _parse_document(doc, p)
    if p.items:
        raise FunnelConfigError(source, p.items)
    if not any(f.is_primary for f in funnels):
        # No funnel marked primary: the first one is.
        funnels[0] = replace(funnels[0], is_primary=True)
    return FunnelSet(funnels=tuple(funnels), source=source)


def load_funnels(path: Path) -> FunnelSet:
    """Read and validate a funnel file. Raises FunnelConfigError naming file, funnel and field.

    A run asks several times (preflight, the funnel tables, each rebuild window); the file is
    parsed once per version of it on disk (same path, modification time and size).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FunnelConfigError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise FunnelConfigError(str(path), [f"cannot read file: {exc}"]) from None
    return _load_version(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _load_version(path: Path, mtime_ns: int, size: int) -> FunnelSet:
    # mtime_ns and size are the cache key: a changed file is parsed again.
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FunnelConfigError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FunnelConfigError(str(path), [f"cannot read file: {exc}"]) from None
    return parse_funnels(text, source=str(path))
