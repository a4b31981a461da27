"""HTML pieces every report section uses: escaping (None as empty), the data-platform /
data-campaign attributes the filter reads, and campaign and funnel labels."""

from __future__ import annotations

from html import escape

from pipelines.lib.funnel_report.model import (
    ALL,
    EVERY,
    Scope,
)


def esc(value: object) -> str:
    return escape("" if value is None else str(value))


def scope_attributes(platform: str, campaign_id: str) -> str:
    return f'data-platform="{esc(platform)}" data-campaign="{esc(campaign_id)}"'


def campaign_label(scope: Scope, names: dict[Scope, str | None]) -> str:
    """Plain text: the campaign's name (or id), for option lists and headings."""
    platform, campaign_id = scope
    if scope == EVERY:
        return "Every campaign"
    if campaign_id == ALL:
        return f"Every {platform} campaign"
    if campaign_id == "(none)":
        return f"{platform} (no campaign)"
    return names.get(scope) or campaign_id


def campaign_cell(scope: Scope, names: dict[Scope, str | None]) -> str:
    """HTML: the campaign's name over its platform and id."""
    platform, campaign_id = scope
    if campaign_id == "(none)":
        return f"{esc(platform)} <small>(no campaign)</small>"
    label = esc(campaign_label(scope, names))
    return f"{label}<br><small>{esc(platform)} · {esc(campaign_id)}</small>"


def funnel_label(funnel_id: str, version: int | None) -> str:
    return (
        f"{esc(funnel_id)} <small>v{esc(version)}</small>"
        if version is not None
        else esc(funnel_id)
    )
