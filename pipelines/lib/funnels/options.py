"""The optional parts of a funnel that refer to its stages: campaigns, exclusions,
attribution and intent segments."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pipelines.lib.funnels.matchers import parse_named_matchers
from pipelines.lib.funnels.model import (
    ATTRIBUTION_MODELS,
    DEFAULT_ATTRIBUTION,
    ID_PATTERN,
    INTENT_SEGMENTS,
    Attribution,
    Exclusion,
    Intent,
)
from pipelines.lib.funnels.problems import Problems, check_keys, type_name

EXCLUSION_KEYS = ("name", "events", "where", "between")
ATTRIBUTION_KEYS = ("stage",)
INTENT_KEYS = ("mid_from_stage", "late_from_stage", "campaigns")


def parse_campaigns(raw: Any, where: str, p: Problems) -> tuple[str, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(
            where,
            "campaigns",
            f"campaigns must be a list of campaign ids or names, got {type_name(raw)}",
        )
        return None
    campaigns: list[str] = []
    ok = True
    for i, item in enumerate(raw):
        # Numeric ids are common (Google Ads): accept them as their text form.
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            p.add(
                where,
                f"campaigns[{i}]",
                f"campaign must be a non-empty string, got {type_name(item)}",
            )
            ok = False
        elif item not in campaigns:
            campaigns.append(item)
    return tuple(campaigns) if ok else None


def stage_ref(
    value: Any, stage_names: Mapping[str, int], where: str, path: str, p: Problems
) -> int | None:
    """The 1-based order of the stage named `value`, or None (problem reported)."""
    if not isinstance(value, str):
        p.add(where, path, f"expected a stage name, got {type_name(value)}")
        return None
    if value not in stage_names:
        hint = difflib.get_close_matches(value, list(stage_names), n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        p.add(
            where,
            path,
            f"unknown stage {value!r} ({did_you_mean}stages: {', '.join(stage_names)})",
        )
        return None
    return stage_names[value]


def _parse_exclusion(
    raw: Any, order: int, stage_names: Mapping[str, int], where: str, path: str, p: Problems
) -> Exclusion | None:
    if not isinstance(raw, Mapping):
        p.add(
            where,
            path,
            f"an exclusion must be a mapping {{name, events, between}}, got {type_name(raw)}",
        )
        return None
    before = len(p.items)
    check_keys(raw, EXCLUSION_KEYS, where, path, p)
    name, events, filters = parse_named_matchers(raw, "exclusion", where, path, p)

    bounds: list[int | None] = [None, None]
    between = raw.get("between")
    if "between" not in raw:
        p.add(where, f"{path}.between", "missing required key 'between' (two stage names)")
    elif not isinstance(between, list) or len(between) != 2:
        p.add(
            where,
            f"{path}.between",
            f"between must be a list of two stage names [from, to], got {type_name(between)}"
            + (f" of {len(between)}" if isinstance(between, list) else ""),
        )
    else:
        bounds = [
            stage_ref(value, stage_names, where, f"{path}.between[{i}]", p)
            for i, value in enumerate(between)
        ]
        if bounds[0] is not None and bounds[0] == bounds[1]:
            p.add(
                where,
                f"{path}.between",
                f"between needs two different stages, got {between[0]!r} twice",
            )
        elif bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            p.add(
                where,
                f"{path}.between",
                f"the first stage must come before the second, got {between[0]!r} (stage "
                f"{bounds[0]}) then {between[1]!r} (stage {bounds[1]})",
            )

    from_stage, to_stage = bounds
    if (
        len(p.items) != before
        or name is None
        or filters is None
        or events is None
        or from_stage is None
        or to_stage is None
    ):
        return None
    return Exclusion(
        order=order,
        name=name,
        events=events,
        from_stage=from_stage,
        to_stage=to_stage,
        where=filters,
    )


def parse_exclusions(
    raw: Any, stage_names: Mapping[str, int], where: str, p: Problems
) -> tuple[Exclusion, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(where, "exclusions", f"exclusions must be a list, got {type_name(raw)}")
        return None
    before = len(p.items)
    parsed = [
        _parse_exclusion(item, i + 1, stage_names, where, f"exclusions[{i}]", p)
        for i, item in enumerate(raw)
    ]
    exclusions = tuple(e for e in parsed if e is not None)
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not ID_PATTERN.match(name):
            continue
        if name in seen:
            p.add(
                where,
                f"exclusions[{i}].name",
                f"duplicate exclusion name {name!r} (already used by exclusions[{seen[name]}])",
            )
        else:
            seen[name] = i
    if len(p.items) != before or len(exclusions) != len(parsed):
        return None
    return exclusions


def parse_attribution(
    raw: Any, stage_names: Mapping[str, int], where: str, p: Problems
) -> Attribution | None:
    expected = "expected first_touch, last_touch or {stage: <stage name>}"
    if raw is None:
        return Attribution(DEFAULT_ATTRIBUTION)
    if isinstance(raw, str):
        if raw in ATTRIBUTION_MODELS and raw != "stage":
            return Attribution(raw)
        p.add(where, "attribution", f"unknown attribution {raw!r} ({expected})")
        return None
    if not isinstance(raw, Mapping):
        p.add(where, "attribution", f"attribution must be a string or a mapping ({expected})")
        return None
    before = len(p.items)
    check_keys(raw, ATTRIBUTION_KEYS, where, "attribution", p)
    if "stage" not in raw:
        p.add(where, "attribution.stage", f"missing required key 'stage' ({expected})")
        return None
    stage = stage_ref(raw["stage"], stage_names, where, "attribution.stage", p)
    if len(p.items) != before or stage is None:
        return None
    return Attribution("stage", stage)


def parse_intent(
    raw: Any, stage_names: Mapping[str, int], where: str, p: Problems
) -> Intent | None:
    if raw is None:
        return Intent()
    if not isinstance(raw, Mapping):
        p.add(
            where,
            "intent",
            "intent must be a mapping {mid_from_stage, late_from_stage, campaigns}, got "
            f"{type_name(raw)}",
        )
        return None
    before = len(p.items)
    check_keys(raw, INTENT_KEYS, where, "intent", p)
    orders: dict[str, int | None] = {}
    for key in ("mid_from_stage", "late_from_stage"):
        orders[key] = None
        if raw.get(key) is not None:
            orders[key] = stage_ref(raw[key], stage_names, where, f"intent.{key}", p)
    # Compare what will be used: an unset bound takes its default (mid: 1, late: max(N-1, 2)).
    stage_count = len(stage_names)
    mid = orders["mid_from_stage"] or 1
    late = orders["late_from_stage"] or max(stage_count - 1, 2)
    bad_ref = any(raw.get(k) is not None and orders[k] is None for k in orders)
    if not bad_ref and stage_count and mid > late:
        p.add(
            where,
            "intent.mid_from_stage",
            f"mid_from_stage (stage {mid}) must not come after late_from_stage (stage {late}"
            f"{'' if orders['late_from_stage'] else ', the default'})",
        )

    campaigns: list[tuple[str, str]] = []
    raw_campaigns = raw.get("campaigns")
    if raw_campaigns is not None and not isinstance(raw_campaigns, Mapping):
        p.add(
            where,
            "intent.campaigns",
            "intent.campaigns must be a mapping {segment: [campaigns]}, got "
            f"{type_name(raw_campaigns)}",
        )
    elif raw_campaigns is not None:
        segment_of: dict[str, str] = {}
        for segment, items in raw_campaigns.items():
            path = f"intent.campaigns.{segment}"
            if segment not in INTENT_SEGMENTS:
                p.add(
                    where,
                    path,
                    f"unknown segment {segment!r} (expected one of {', '.join(INTENT_SEGMENTS)})",
                )
                continue
            if not isinstance(items, list):
                p.add(
                    where,
                    path,
                    f"expected a list of campaign ids or names, got {type_name(items)}",
                )
                continue
            for i, item in enumerate(items):
                if isinstance(item, int) and not isinstance(item, bool):
                    item = str(item)
                if not isinstance(item, str) or not item.strip():
                    p.add(
                        where,
                        f"{path}[{i}]",
                        f"campaign must be a non-empty string, got {type_name(item)}",
                    )
                elif item in segment_of:
                    if segment_of[item] != segment:
                        p.add(
                            where,
                            f"{path}[{i}]",
                            f"campaign {item!r} is already listed under {segment_of[item]!r} "
                            "(a campaign belongs to one segment)",
                        )
                else:
                    segment_of[item] = segment
                    campaigns.append((item, segment))
    if len(p.items) != before:
        return None
    return Intent(
        mid_from_stage=orders["mid_from_stage"],
        late_from_stage=orders["late_from_stage"],
        campaigns=tuple(campaigns),
    )
