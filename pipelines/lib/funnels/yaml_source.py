"""Funnel YAML text to Python values, refusing duplicate keys; syntax errors name the line."""

from __future__ import annotations

from typing import Any

import yaml

from pipelines.lib.funnels.problems import FunnelConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # unhashable key: the constructor below reports it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.context and exc.problem and context is not None:
            # e.g. an unclosed bracket: say where the construct began, not only where it broke
            detail += f" ({exc.context} on line {context.line + 1}, column {context.column + 1})"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise FunnelConfigError(source, [f"{where}YAML syntax error: {detail}"]) from None
    except yaml.YAMLError as exc:
        raise FunnelConfigError(source, [f"YAML syntax error: {exc}"]) from None
