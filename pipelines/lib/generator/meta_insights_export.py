"""Meta Marketing API insights responses (`/act_<id>/insights?level=ad&time_increment=1`).

What a pull of the insights edge returns, as the Graph API sends it: numbers as strings,
`account_id` without its `act_` prefix, `clicks` (all clicks) beside `inline_link_clicks` (link
clicks, the generator's `clicks`), and each conversion listed under the three aliases Meta
reports it by (`offsite_conversion.fb_pixel_purchase`, `purchase`, `omni_purchase`) with
attribution-window splits, so a reader that adds the aliases up is caught by the round trip.
Fields Meta leaves out of rows without data are left out here too (`actions` /
`action_values` when there were no conversions).

A `.json` path gets one response page, pretty-printed as a saved Graph API Explorer / `jq`
response; a `.jsonl` / `.ndjson` path gets the pages of a paginated pull, one page a line, with
`paging.next` links like the API's. A trailing `.gz` compresses (reproducibly: no timestamp).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .source_rows import AdReportRow

API_VERSION = "v19.0"
PAGE_SIZE = 25  # the insights edge's default `limit`
FIELDS = (
    "account_id,account_name,account_currency,campaign_id,campaign_name,adset_id,adset_name,"
    "ad_id,ad_name,date_start,date_stop,impressions,clicks,inline_link_clicks,spend,actions,"
    "action_values"
)
# One purchase, three names (meta_actions.py counts it once).
PURCHASE_ALIASES = ("offsite_conversion.fb_pixel_purchase", "purchase", "omni_purchase")


def write_insights(path: Path, rows: Sequence[AdReportRow]) -> int:
    """Write `rows` (all meta_ads) as an insights response; returns the number of rows."""
    others = sorted({r.platform for r in rows} - {"meta_ads"})
    if others:
        raise ValueError(f"write_insights writes meta_ads rows only, got {', '.join(others)}")
    data = [_row(r) for r in rows]
    kind = _kind(path)
    if kind == ".json":
        text = json.dumps(_page(data, 0, len(data), None), indent=2) + "\n"
    else:
        account = rows[0].account_id if rows else "0"
        starts = range(0, max(len(data), 1), PAGE_SIZE)
        text = "".join(
            json.dumps(_page(data, start, len(data), account), separators=(",", ":")) + "\n"
            for start in starts
        )
    _write(path, text.encode("utf-8"))
    return len(data)


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind not in (".json", ".jsonl", ".ndjson"):
        raise ValueError(f"{path}: expected a .json, .jsonl or .ndjson path (optionally .gz)")
    return kind


def _number(value: float) -> str:
    """Meta's numeric strings: '36.15', '9.8', '2' (no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _row(r: AdReportRow) -> dict[str, Any]:
    # Clicks on the ad that are not link clicks (likes, expands, profile): about 1 in 60
    # impressions; only inline_link_clicks reaches the site.
    other_clicks = r.impressions // 60
    row: dict[str, Any] = {
        "account_id": r.account_id.removeprefix("act_"),
        "account_name": r.account_name,
        "account_currency": r.currency,
        "campaign_id": r.campaign_id,
        "campaign_name": r.campaign_name,
        "adset_id": r.ad_group_id,
        "adset_name": r.ad_group_name,
        "ad_id": r.ad_id,
        "ad_name": r.ad_name,
        "date_start": r.day.isoformat(),
        "date_stop": r.day.isoformat(),
        "impressions": str(r.impressions),
        "clicks": str(r.clicks + other_clicks),
        "inline_link_clicks": str(r.clicks),
        "spend": _number(r.spend),
    }
    actions = [{"action_type": "link_click", "value": str(r.clicks)}] if r.clicks else []
    if r.conversions:
        actions += [_action(name, r.conversions) for name in PURCHASE_ALIASES]
    if actions:
        row["actions"] = actions
    if r.conversion_value:
        row["action_values"] = [_action(name, r.conversion_value) for name in PURCHASE_ALIASES]
    return row


def _action(action_type: str, value: float) -> dict[str, str]:
    """An AdsActionStats entry; `value` is the default window, split 7d_click / 1d_view."""
    view = round(value * 0.2, 2)
    return {
        "action_type": action_type,
        "value": _number(value),
        "7d_click": _number(value - view),
        "1d_view": _number(view),
    }


def _cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode().rstrip("=")


def _page(data: list[dict[str, Any]], start: int, total: int, account: str | None) -> dict:
    """One page: `data` plus `paging` (cursors; next / previous links for paginated pulls)."""
    chunk = data[start : start + PAGE_SIZE] if account is not None else data
    end = start + len(chunk)
    paging: dict[str, Any] = {
        "cursors": {"before": _cursor(start), "after": _cursor(max(end - 1, start))}
    }
    if account is not None:
        base = (
            f"https://graph.facebook.com/{API_VERSION}/act_{account}/insights"
            f"?fields={FIELDS}&level=ad&time_increment=1&limit={PAGE_SIZE}"
        )
        if end < total:
            paging["next"] = f"{base}&after={_cursor(end - 1)}"
        if start > 0:
            paging["previous"] = f"{base}&before={_cursor(start)}"
    return {"data": chunk, "paging": paging}


def _write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.name.lower().endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    tmp.write_bytes(payload)
    tmp.replace(path)  # readers never see a half-written response
